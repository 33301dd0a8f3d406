#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
// Commands report their own errors; this catches only what escapes them, in one line.
require('../dist/main.js')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    const parts = [];
    for (let e = err; e && parts.length < 5; e = e.cause) parts.push(e.message || String(e));
    process.stderr.write(`dnsop: ${parts.join(': ') || String(err)}\n`);
    process.exitCode = 1;
  });
