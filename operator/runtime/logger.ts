/** One injected JSON-lines logger (pino); controllers use child loggers bound to {controller, key}. */
import pino from 'pino';

export type Logger = pino.Logger;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Paths that may hold secrets; pino replaces their values before anything is written. */
const REDACT = [
  '*.secretAccessKey',
  '*.sessionToken',
  '*.AWS_SECRET_ACCESS_KEY',
  '*.AWS_SESSION_TOKEN',
  '*.private_key',
  '*.token',
  '*.authorization',
  'credentials',
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'dnsop' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that writes nothing, for tests and offline commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
