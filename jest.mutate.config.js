'use strict';
/**
 * The unit tier alone, for StrykerJS (`npm run mutate`): mutants are judged by the fast tests.
 * TypeScript is transpiled without type checks here (Stryker's typescript checker already rejects
 * mutants that do not compile), which makes each of the thousands of test runs far cheaper.
 *
 * Left out: the unit files that drive the whole program through its edges (the CLI, the
 * DNSPolicy controller harness, the prober on loopback sockets). Stryker's jest runner loads every
 * related test file for every mutant, and these load the CLI, the cloud SDKs and the schema
 * validator, and wait on real time: they made a mutant cost ~20 s instead of ~2 s. A guard of the
 * pure core must be proved by the tests of the pure core, so leaving them out can only lower the
 * score (a mutant they alone would kill counts as survived): the score printed is a lower bound.
 */
const { projects } = require('./jest.config.js');

const unit = projects.find((p) => p.displayName === 'unit');
const transform = {
  ...unit.transform,
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }],
};
const EDGE_TESTS = [
  '<rootDir>/operator/main.test.ts',
  '<rootDir>/operator/records/plan-command.test.ts',
  '<rootDir>/operator/records/plan-current.test.ts',
  '<rootDir>/operator/records/reconciler.test.ts',
  '<rootDir>/operator/probes/probe-command.test.ts',
  '<rootDir>/operator/probes/probe-runtime.test.ts',
  '<rootDir>/test/unit/',
];
module.exports = {
  ...unit,
  transform,
  rootDir: __dirname,
  testPathIgnorePatterns: ['/node_modules/', ...EDGE_TESTS],
};
