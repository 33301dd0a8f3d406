'use strict';
/**
 * Two tiers: unit tests beside the code, integration tests against the real-cluster harness.
 *
 * @kubernetes/client-node 1.x and a few of its dependencies ship only ES modules. Node 20.19+
 * loads them with require(), but Jest's module system cannot (before Node 24.9), so Jest
 * compiles exactly those packages to CommonJS with Babel.
 */
const ESM_ONLY = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  '^.+\\.m?js$': [
    'babel-jest',
    { babelrc: false, configFile: false, plugins: ['@babel/plugin-transform-modules-commonjs'] },
  ],
};
const transformIgnorePatterns = [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`];
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
