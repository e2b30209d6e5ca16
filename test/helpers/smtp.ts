import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Inbox {
  port: number;
  mails: ParsedMail[];
  /** While set, the server refuses every recipient (at RCPT TO) or every message (after DATA) with this reply. */
  refuse: { at: 'rcpt' | 'data'; code: number; text: string } | null;
  /** While set, a message is read to its end and kept in `held`, but never answered: the sender waits for the reply. */
  hold: boolean;
  held: ParsedMail[];
  close(): Promise<void>;
}

function refusal(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

/** A real SMTP server on loopback that parses every accepted message; optionally with a login. */
export async function startInbox(
  options: { port?: number; auth?: { user: string; pass: string } } = {},
): Promise<Inbox> {
  const mails: ParsedMail[] = [];
  const inbox = { refuse: null as Inbox['refuse'], hold: false, held: [] as ParsedMail[] };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    // A held message's session is cut at close instead of keeping the server open for 30 s.
    closeTimeout: 500,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass)
        return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onRcptTo(_address, _session, callback) {
      const refuse = inbox.refuse;
      callback(refuse?.at === 'rcpt' ? refusal(refuse.code, refuse.text) : undefined);
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const refuse = inbox.refuse;
          if (refuse?.at === 'data') return callback(refusal(refuse.code, refuse.text));
          if (inbox.hold) return void inbox.held.push(mail);
          mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return Object.assign(inbox, {
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
