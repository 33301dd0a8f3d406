import { collectDefaultMetrics, Registry } from 'prom-client';
import { createMetrics } from './metrics';

const names = (registry: Registry): string[] =>
  registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((n) => !n.startsWith('dnsop_'))
    .sort();

describe('createMetrics: process metrics', () => {
  it('starts no event-loop delay monitor of its own (the manager has the one; idle wake-ups)', () => {
    // The module object prom-client calls through (a namespace import's bindings cannot be spied on).
    const perfHooks = jest.requireActual<typeof import('node:perf_hooks')>('node:perf_hooks');
    const monitor = jest.spyOn(perfHooks, 'monitorEventLoopDelay');
    try {
      createMetrics(new Registry());
      expect(monitor).not.toHaveBeenCalled();
    } finally {
      monitor.mockRestore();
    }
  });

  it("registers prom-client's default process metrics but its event-loop lag family", () => {
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    const expected = names(defaults).filter((n) => !n.startsWith('nodejs_eventloop_lag'));
    expect(expected).toContain('process_cpu_seconds_total');
    expect(expected).toContain('nodejs_heap_size_used_bytes');
    expect(names(createMetrics(new Registry()).registry)).toEqual(expected);
  });

  it('registers none without processMetrics', () => {
    expect(names(createMetrics(new Registry(), { processMetrics: false }).registry)).toEqual([]);
  });
});
