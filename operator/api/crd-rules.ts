/**
 * The CEL rules of crds/ (x-kubernetes-validations), each implemented once in TypeScript so that
 * `dnsop plan` rejects what the API server rejects. Keyed by the rule's text as written in the
 * CRD (whitespace collapsed); a rule the CRD has and this table lacks fails the unit tests, and
 * an integration test runs a shared table of invalid objects through both the API server and
 * `dnsop plan`.
 */
import { DURATION_PATTERN, parseDuration } from '../runtime/duration';

/** `self` of a rule: the JSON value at the node that carries it (already schema-valid). */
type Self = Record<string, unknown>;

const DURATION = new RegExp(DURATION_PATTERN);

/** The CEL guard `!x.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$')`, negated. */
function isDuration(value: unknown): value is string {
  return typeof value === 'string' && DURATION.test(value);
}

/** A rule on a duration string that holds when the string is not a duration (the pattern reports it). */
function durationRule(check: (ms: number) => boolean): (self: unknown) => boolean {
  return (self) => !isDuration(self) || check(parseDuration(self));
}

const has = (self: Self, key: string): boolean => self[key] !== undefined;

const DURATION_GUARD = "!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$')";

export const CEL_RULES: ReadonlyMap<string, (self: unknown) => boolean> = new Map<
  string,
  (self: unknown) => boolean
>([
  // DNSPolicy
  [
    '[has(self.route53), has(self.cloudDNS), has(self.inMemory)].exists_one(x, x)',
    (self) => ['route53', 'cloudDNS', 'inMemory'].filter((k) => has(self as Self, k)).length === 1,
  ],
  [
    "!has(self.ingressClassNames) || self.kind == 'Ingress'",
    (self) => !has(self as Self, 'ingressClassNames') || (self as Self)['kind'] === 'Ingress',
  ],
  [`${DURATION_GUARD} || duration(self) >= duration('10s')`, durationRule((ms) => ms >= 10_000)],
  [
    '!has(self.txtPrefix) || !has(self.txtSuffix) || self.txtPrefix == "" || self.txtSuffix == ""',
    (self) => {
      const { txtPrefix, txtSuffix } = self as Self;
      return !txtPrefix || !txtSuffix;
    },
  ],
  // DNSProbe
  [
    "!has(self.interval) || !has(self.timeout) || !self.interval.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || !self.timeout.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self.timeout) <= duration(self.interval)",
    (self) => {
      const { interval, timeout } = self as Self;
      return (
        !isDuration(interval) ||
        !isDuration(timeout) ||
        parseDuration(timeout) <= parseDuration(interval)
      );
    },
  ],
  [
    'has(self.serviceRef) != (has(self.addresses) && size(self.addresses) > 0)',
    (self) => {
      const s = self as Self;
      const addresses = s['addresses'];
      return has(s, 'serviceRef') !== (Array.isArray(addresses) && addresses.length > 0);
    },
  ],
  [`${DURATION_GUARD} || duration(self) >= duration('10ms')`, durationRule((ms) => ms >= 10)],
  [
    `${DURATION_GUARD} || (duration(self) > duration('0s') && duration(self) <= duration('30s'))`,
    durationRule((ms) => ms > 0 && ms <= 30_000),
  ],
  [`${DURATION_GUARD} || duration(self) > duration('0s')`, durationRule((ms) => ms > 0)],
]);

/** The key a rule is looked up by: its text with runs of whitespace collapsed. */
export function ruleKey(rule: string): string {
  return rule.replace(/\s+/g, ' ').trim();
}
