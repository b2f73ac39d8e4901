/** Timestamps as the contract writes them: UTC, milliseconds, `Z` (the official suite requires the fraction). */
export function now(): string {
  return new Date().toISOString();
}
