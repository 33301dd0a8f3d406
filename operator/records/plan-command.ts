/** `dnsop plan`: offline preview of the records every DNSPolicy in the given manifests would publish. */
import type { CliIO } from '../cli-io';
import { EXIT_FAILURE } from '../cli-io';

export interface PlanCommandOptions {
  readonly files: readonly string[];
  readonly output: 'json' | 'table';
}

export function runPlanCommand(_options: PlanCommandOptions, io: CliIO): Promise<number> {
  io.stderr('dnsop plan: not implemented yet\n');
  return Promise.resolve(EXIT_FAILURE);
}
