/** Gateway entry: wiring only (config, logger, signals). */
import { ConfigError, loadConfig, scrubSecretsFromEnvironment } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { Gateway } from './gateway.js';
import { installSignalHandlers } from './shutdown.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`ccmanager: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
scrubSecretsFromEnvironment();
const log = createLogger({
  level: config.logLevel,
  dir: config.logDir,
  name: 'gateway',
  pretty: config.env === 'development' && process.stdout.isTTY === true,
});
process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  log.error({ err }, 'unhandled rejection');
});

const gateway = new Gateway(config, log);
installSignalHandlers(gateway, log, config.shutdownTimeoutMs);
try {
  const port = await gateway.start();
  // PM2 wait_ready, and tests that fork the gateway, listen for this.
  process.send?.('ready');
  process.send?.({ type: 'gateway_ready', port });
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
