#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
// Commands report their own errors; this catches only what escapes them, in one line.
// A reader that went away (`dnsop probe -o json | head -1`) ends the process quietly, as SIGPIPE
// ends other command-line tools, not with an unhandled 'error' and a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
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
