/** Bytes for people: `512 B`, `2.0 KB`, `293 KB`, `5.0 MB`, `10 GB` (binary multiples, one decimal below 10). */
export function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** How many of `items`, from the first, fit together in `room` when each takes `size(item)`. */
export function fitCount<T>(items: readonly T[], room: number, size: (item: T) => number): number {
  let left = room;
  let n = 0;
  for (const item of items) {
    left -= size(item);
    if (left < 0) break;
    n++;
  }
  return n;
}
