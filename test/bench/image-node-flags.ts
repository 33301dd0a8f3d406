/**
 * The node flags the image starts the operator with (the Dockerfile's ENTRYPOINT, between "node"
 * and the script), so benches measure what ships; DNSOP_BENCH_NODE_FLAGS (space-separated)
 * overrides them for a comparison.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function imageNodeFlags(root: string): string[] {
  const override = process.env['DNSOP_BENCH_NODE_FLAGS'];
  if (override !== undefined) return override.split(' ').filter((f) => f !== '');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const argv = entry ? (JSON.parse(entry[1]!) as string[]) : [];
  return argv.slice(1).filter((a) => a.startsWith('--'));
}
