import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { DiceChannel, DiceRoller } from './dice-channel.ts';
import { describeCertificate, fingerprintTlsFiles, loadClientCredentials, type TlsFiles } from './tls-files.ts';

export interface ReloadingDiceClientOptions {
  tlsFiles: TlsFiles;
  /** Opens a channel with the given credentials (createDiceChannel with the app's settings). */
  connect: (credentials: grpc.ChannelCredentials) => DiceChannel;
  logger: Logger;
  /** How often the three files are read and compared. */
  pollMs?: number;
}

export interface ReloadingDiceClient extends DiceRoller {
  /** Reads the files now and switches channels if they changed and are usable; true when it switched. */
  checkNow(): boolean;
}

/**
 * The web app's gRPC client, following its certificate files: when the CA, certificate or key
 * change on disk (make rotate-certs, a Kubernetes secret update), new calls go to a new channel
 * with the new credentials and the old channel closes once its calls have ended, so a rotation needs
 * no restart and fails no call. The files are polled by content: that works for bind-mounted files
 * written in place, for symlink swaps and for network filesystems, where change events do not.
 * A half-written pair (new certificate, old key) is not used; the next poll tries again.
 */
export function createReloadingDiceClient({ tlsFiles, connect, logger, pollMs = 1000 }: ReloadingDiceClientOptions): ReloadingDiceClient {
  let current = connect(loadClientCredentials(tlsFiles));
  let loaded = fingerprintTlsFiles(tlsFiles);
  let refused: string | undefined;

  const checkNow = (): boolean => {
    const seen = fingerprintTlsFiles(tlsFiles);
    if (seen === undefined || seen === loaded || seen === refused) return false;
    let credentials: grpc.ChannelCredentials;
    try {
      credentials = loadClientCredentials(tlsFiles);
    } catch (error) {
      refused = seen;
      logger.warn({ reason: (error as Error).message }, 'certificate files changed but cannot be used (yet): keeping the current client certificate');
      return false;
    }
    const previous = current;
    current = connect(credentials);
    loaded = seen;
    refused = undefined;
    logger.info({ certificate: describeCertificate(tlsFiles.cert) }, 'client certificate reloaded: new calls use a new channel, the old one closes when its calls end');
    void previous.drain();
    return true;
  };

  const timer = setInterval(checkNow, pollMs);
  timer.unref();
  return {
    roll: (options) => current.roll(options),
    rollDice: (options) => current.rollDice(options),
    checkNow,
    close() {
      clearInterval(timer);
      current.close();
    },
  };
}
