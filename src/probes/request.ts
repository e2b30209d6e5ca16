/** One canary call, ready to send. Headers may carry the key: never log this object. */
export interface CanaryRequest {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}
