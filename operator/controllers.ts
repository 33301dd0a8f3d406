/** The controllers `dnsop run` starts, chosen by --controllers. */
import { DNSProbeController } from './probes/reconciler';
import { DNSPolicyController } from './records/reconciler';
import type { Config } from './runtime/config';
import type { Controller } from './runtime/controller';

export function createControllers(config: Config): Controller[] {
  const controllers: Controller[] = [];
  if (config.controllers.includes('dnspolicy')) controllers.push(new DNSPolicyController());
  if (config.controllers.includes('dnsprobe')) controllers.push(new DNSProbeController());
  return controllers;
}
