// Training progress: on a terminal, a cli-progress bar per epoch with the running loss, the rate and
// the ETA; elsewhere (a pipe, a CI log, --json) nothing per step, so the epoch lines stand alone.
import { SingleBar } from 'cli-progress';

export interface StepInfo {
  readonly epoch: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly samplesPerSecond: number;
}

export interface Progress {
  /** After each training step. */
  readonly step: (s: StepInfo) => void;
  /** Before an epoch line is printed: ends the epoch's bar. */
  readonly endEpoch: () => void;
}

const NONE: Progress = { step: () => {}, endEpoch: () => {} };

export function progress(stream: NodeJS.WriteStream, enabled: boolean): Progress {
  if (!enabled || stream.isTTY !== true) return NONE;
  let bar: SingleBar | undefined;
  let epoch = 0;
  return {
    step(s) {
      if (!bar || s.epoch !== epoch) {
        bar?.stop();
        epoch = s.epoch;
        bar = new SingleBar({
          stream,
          format: 'epoch {epoch} [{bar}] {value}/{total}  loss {loss}  {rate} samples/s  ETA {eta_formatted}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        });
        bar.start(s.steps, 0, { epoch: s.epoch, loss: '-', rate: '-' });
      }
      bar.update(s.step, { loss: s.loss.toFixed(4), rate: s.samplesPerSecond.toFixed(0) });
    },
    endEpoch() {
      bar?.stop();
      bar = undefined;
    },
  };
}
