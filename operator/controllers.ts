/** The controllers `dnsop run` starts, chosen by --controllers. */
import { DNSPolicyController } from './records/reconciler';
import type { Config } from './runtime/config';
import type { Controller } from './runtime/controller';

export function createControllers(config: Config): Controller[] {
  const controllers: Controller[] = [];
  if (config.controllers.includes('dnspolicy')) controllers.push(new DNSPolicyController());
  return controllers;
}
