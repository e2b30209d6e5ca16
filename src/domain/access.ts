/** Who may read what; all null: open (the default). Secrets come from the environment only. */
export interface Access {
  /** Basic auth for the dashboard, the read API and /metrics. */
  user: string;
  password: string | null;
  /** A bearer token accepted wherever the password is (scripts, Prometheus). */
  apiToken: string | null;
  /** A bearer token for /health and /health/{id}, which client apps hold. */
  healthToken: string | null;
}
