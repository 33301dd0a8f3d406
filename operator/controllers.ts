/** The controllers `dnsop run` starts, chosen by --controllers. */
import type { Config } from './runtime/config';
import type { Controller } from './runtime/controller';

export function createControllers(_config: Config): Controller[] {
  return [];
}
