/**
 * Fake secrets for the leak sweep. Each starts with CANARY, so a cut-off head of one (an error
 * text truncated mid-secret) shows up as well as the whole; the rest names which secret it is.
 */
export const CANARY = 'SWEEPLEAK';

/** The environment of a configured service: every secret modelpulse reads, by its variable name. */
export const FAKE = {
  GEMINI_API_KEY: `${CANARY}-gemini-key-3c1e`,
  RELAY_API_KEY: `${CANARY}-relay-key-9b2d`,
  ECHO_GEMINI_KEY: `${CANARY}-echo-gemini-key-4d02`,
  // Letters, digits and underscores only: it looks like a variable name (see the config-error sweep).
  RELAY_BEARER: `${CANARY}_relay_bearer_e61f`,
  SMTP_PASSWORD: `${CANARY}-smtp-pass-7f3a+/q=`,
  WEBHOOK_SECRET: `${CANARY}-webhook-secret-51c0`,
  MODELPULSE_DASHBOARD_PASSWORD: `${CANARY}-dash-pass-a4e8+/`,
  MODELPULSE_API_TOKEN: `${CANARY}-api-token-0d6b`,
  MODELPULSE_HEALTH_TOKEN: `${CANARY}-health-token-e2f9`,
  REPORT_TOKEN_APP1: `${CANARY}-report-app1-8a7c`,
  MODELPULSE_REPORT_TOKEN_APP2: `${CANARY}-report-app2-c3d5`,
} as const;

export const SMTP_USER = 'modelpulse-mailer';
export const DASHBOARD_USER = 'ops';

export interface Leak {
  sink: string;
  form: string;
  excerpt: string;
}

/**
 * Every written form of a secret worth looking for: raw, URL- and JSON-encoded, and base64 at each
 * of the three alignments it can have inside a longer base64 blob (an AUTH PLAIN line, a basic-auth
 * header), as standard and URL-safe base64.
 */
export function secretForms(extra: Record<string, string> = {}): Map<string, string> {
  const forms = new Map<string, string>();
  const add = (label: string, value: string) => {
    if (value.length >= 8 && ![...forms.values()].includes(value)) forms.set(label, value);
  };
  for (const [name, value] of Object.entries({ ...FAKE, ...extra })) {
    add(`${name} (raw)`, value);
    add(`${name} (URL-encoded)`, encodeURIComponent(value));
    add(`${name} (JSON-escaped)`, JSON.stringify(value).slice(1, -1));
    for (const offset of [0, 1, 2]) {
      const fragment = base64Inside(value, offset);
      add(`${name} (base64${offset ? `, ${offset} bytes into a blob` : ''})`, fragment);
      add(
        `${name} (base64url${offset ? `, ${offset} bytes into a blob` : ''})`,
        fragment.replace(/\+/g, '-').replace(/\//g, '_'),
      );
    }
  }
  return forms;
}

/** The base64 characters that depend only on the secret's bytes when it starts `offset` (mod 3) bytes into a blob. */
function base64Inside(secret: string, offset: number): string {
  const bytes = Buffer.concat([Buffer.alloc(offset), Buffer.from(secret)]);
  const encoded = bytes.toString('base64').replace(/=+$/, '');
  const skip = [0, 2, 3][offset]!;
  const partialEnd = bytes.length % 3 === 0 ? 0 : 1;
  return encoded.slice(skip, encoded.length - partialEnd);
}

const FORMS = secretForms();

/** Where in `text` a secret shows, in any form, or the head of one; `allowed` strings are cut out first (a legitimate use). */
export function leaksIn(
  sink: string,
  text: string,
  options: { allowed?: readonly string[]; forms?: Map<string, string> } = {},
): Leak[] {
  const scanned = (options.allowed ?? []).reduce((result, ok) => result.split(ok).join('[allowed]'), text);
  const found: Leak[] = [];
  const excerpt = (at: number) => scanned.slice(Math.max(0, at - 60), at + 80).replace(/[^\x20-\x7e]/g, '.');
  let rest = scanned;
  for (const [form, value] of options.forms ?? FORMS) {
    const at = scanned.indexOf(value);
    if (at >= 0) found.push({ sink, form, excerpt: excerpt(at) });
    rest = rest.split(value).join('[found]');
  }
  const head = rest.indexOf(CANARY);
  if (head >= 0)
    found.push({
      sink,
      form: `the head of a secret (${CANARY}…)`,
      excerpt: rest.slice(Math.max(0, head - 60), head + 80).replace(/[^\x20-\x7e]/g, '.'),
    });
  return found;
}

/** A readable failure: one line per form found, naming where (the first few sinks) with the text around its first sighting. */
export function describeLeaks(leaks: readonly Leak[]): string {
  const byForm = new Map<string, Leak[]>();
  for (const leak of leaks) byForm.set(leak.form, [...(byForm.get(leak.form) ?? []), leak]);
  return [...byForm]
    .map(([form, found]) => {
      const sinks =
        found
          .slice(0, 4)
          .map((l) => l.sink)
          .join('; ') + (found.length > 4 ? `; and ${found.length - 4} more` : '');
      return `${form} in ${sinks}: …${found[0]!.excerpt}…`;
    })
    .join('\n');
}
