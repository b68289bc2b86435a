import { ConfigError } from './env.ts';

/**
 * Runs a service's start-up. A configuration mistake prints one line naming the variable and exits
 * with status 1 (no stack trace: the person starting the service needs the line, not our internals);
 * any other start-up failure is logged as such and exits with status 1 as well.
 */
export async function runMain(service: string, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: configuration error: ${error.message}\n`);
    } else {
      process.stderr.write(`${service}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exit(1);
  }
}

/** Calls stop() once on the first SIGTERM or SIGINT; a second signal exits at once. */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    stop(signal).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
