/** How figures read in sentences people see (advice reasons, alert mails). */
export function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function percent(share: number | null | undefined): string {
  return share === null || share === undefined ? 'n/a' : `${Math.round(share * 100)}%`;
}
