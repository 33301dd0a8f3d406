/** `dnsop probe`: the DNSProbe engine from a terminal, no cluster needed. */
import type { CliIO } from '../cli-io';
import { EXIT_FAILURE } from '../cli-io';

export interface ProbeCommandOptions {
  readonly servers: readonly string[];
  readonly queries: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly transport: string;
  readonly duration: string;
  readonly output: string;
}

export function runProbeCommand(
  _options: ProbeCommandOptions,
  io: CliIO,
  _signal?: AbortSignal,
): Promise<number> {
  io.stderr('dnsop probe: not implemented yet\n');
  return Promise.resolve(EXIT_FAILURE);
}
