import { humanSize } from "../util/size.ts";

/** Transfers shorter than this never draw a bar. */
const DELAY_MS = 500;
const REDRAW_MS = 100;

/**
 * A one-line progress bar on stderr (bytes, rate, ETA) for transfers that take more than a moment; only
 * on a terminal, so piped and `--json` output stay clean.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now) {
  const start = now();
  let drawn = false;
  let last = 0;
  const draw = (done: number, total: number, final = false) => {
    const t = now();
    if (!stream.isTTY || (!drawn && t - start < DELAY_MS) || (!final && t - last < REDRAW_MS)) return;
    last = t;
    drawn = true;
    const secs = Math.max((t - start) / 1000, 0.001);
    const rate = done / secs;
    const eta = rate > 0 && total > done ? Math.ceil((total - done) / rate) : 0;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    stream.write(`\r${label} ${bar} ${pct}% ${humanSize(done)}/${humanSize(total)} ${humanSize(Math.round(rate))}/s ETA ${eta}s\x1b[K`);
  };
  return {
    update: (done: number, total: number) => draw(done, total),
    finish(done: number, total: number) {
      if (drawn) {
        draw(done, total, true);
        stream.write("\n");
      }
    },
  };
}
