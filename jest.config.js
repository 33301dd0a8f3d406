'use strict';
/**
 * Two tiers: unit tests beside the code, integration tests against the real-cluster harness.
 *
 * @kubernetes/client-node 1.x and a few of its dependencies ship only ES modules. Node 20.19+
 * loads them with require(), but Jest's module system cannot (before Node 24.9), so Jest
 * compiles exactly those packages to CommonJS with Babel. The Google clients (gaxios,
 * teeny-request) load the ESM-only node-fetch 3 with a dynamic import(), which Jest's VM cannot
 * run either; compiled by Babel it becomes a require() of the compiled node-fetch.
 */
const ESM_ONLY = [
  '@kubernetes/client-node',
  'openid-client',
  'oauth4webapi',
  'jose',
  'gaxios',
  'teeny-request',
  'node-fetch',
  'fetch-blob',
  'formdata-polyfill',
  'data-uri-to-buffer',
];
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  '^.+\\.m?js$': [
    'babel-jest',
    {
      babelrc: false,
      configFile: false,
      plugins: [
        '@babel/plugin-transform-modules-commonjs',
        '@babel/plugin-transform-dynamic-import',
      ],
    },
  ],
};
// Ignore a file unless the innermost package it sits in is listed (packages nest in node_modules).
const transformIgnorePatterns = [
  `/node_modules/(?!(?:${ESM_ONLY.join('|')})/)(?:@[^/]+/)?[^/]+/(?!.*node_modules/)`,
];
const common = { testEnvironment: 'node', transform, transformIgnorePatterns };

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/operator/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};
