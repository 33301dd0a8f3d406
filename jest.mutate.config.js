'use strict';
/**
 * The unit tier alone, for StrykerJS (`npm run mutate`): mutants are judged by the fast tests.
 * TypeScript is transpiled without type checks here (Stryker's typescript checker already rejects
 * mutants that do not compile), which makes each of the thousands of test runs far cheaper.
 */
const { projects } = require('./jest.config.js');

const unit = projects.find((p) => p.displayName === 'unit');
const transform = {
  ...unit.transform,
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }],
};
module.exports = { ...unit, transform, rootDir: __dirname };
