/** How far a hello or signed request timestamp may be off the broker's clock; doctor warns past it. */
export const MAX_CLOCK_SKEW_MS = 60_000;
