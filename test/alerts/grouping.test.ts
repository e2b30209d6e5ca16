import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { emailSettings, listedAlerts, MINUTE, MODELS, subjects, useAlertWorld } from './alert-world.js';

describe('grouping changes that land within the group wait', () => {
  const begin = useAlertWorld();

  it('puts two targets that overload 20 s apart in one mail that names both, with a section each', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana', MODELS.flash), w.target('nano-banana-pro', MODELS.pro)], {
      email: emailSettings(inbox.port),
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded', MODELS.flash);
    await runFor(service, w.clock, 20_000);
    w.upstream.set('overloaded', MODELS.pro);
    await runFor(service, w.clock, 3 * MINUTE);

    expect(inbox.mails).toHaveLength(1);
    const [mail] = inbox.mails;
    expect(mail!.subject).toBe('[modelpulse] 2 alerts: nano-banana OVERLOADED, nano-banana-pro OVERLOADED');
    expect(mail!.text).toContain('nano-banana (gemini-2.5-flash-image) is OVERLOADED since 2026-11-25 13:02');
    expect(mail!.text).toContain('nano-banana-pro (gemini-3-pro-image-preview) is OVERLOADED since 2026-11-25 13:02');
    expect(String(mail!.text).match(/^\s+503 share \(last 5 min\):/gm)).toHaveLength(2);
    expect(mail!.text).toContain('https://modelpulse.example.com/health/nano-banana\n');
    expect(mail!.text).toContain('https://modelpulse.example.com/health/nano-banana-pro\n');
    expect(String(mail!.html).match(/<h3>/g)).toHaveLength(2);
    const listed = (await listedAlerts(service)).notifications;
    expect(listed.map((n) => [n.target, n.status])).toEqual([
      ['nano-banana-pro', 'delivered'],
      ['nano-banana', 'delivered'],
    ]);
    expect(new Set(listed.map((n) => n.deliveryId)).size).toBe(1);
    // The alert log marks both as grouped, in either language of the headlines.
    for (const query of ['', '?lang=ko'])
      expect((await listedAlerts(service, query)).notifications.map((n) => n.grouped)).toEqual([true, true]);
  });

  it('mails separately when the second target overloads after the first mail went out', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana', MODELS.flash), w.target('nano-banana-pro', MODELS.pro)], {
      email: emailSettings(inbox.port),
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded', MODELS.flash);
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded', MODELS.pro);
    await runFor(service, w.clock, 2 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([
      expect.stringMatching(/^\[modelpulse\] nano-banana OVERLOADED/),
      expect.stringMatching(/^\[modelpulse\] nano-banana-pro OVERLOADED/),
    ]);
  });

  it('puts three targets that overload together in one onset mail, and their recovery in one more', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const ids = ['nano-banana', 'nano-banana-pro', 'flash-legacy'];
    const service = await w.start(
      [
        w.target('nano-banana', MODELS.flash),
        w.target('nano-banana-pro', MODELS.pro),
        w.target('flash-legacy', MODELS.legacy),
      ],
      {
        email: emailSettings(inbox.port),
      },
    );
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(inbox.mails).toHaveLength(2);
    const [onset, recovery] = inbox.mails;
    expect(onset!.subject).toMatch(/^\[modelpulse\] 3 alerts: /);
    for (const id of ids) {
      expect(onset!.subject).toContain(`${id} OVERLOADED`);
      expect(onset!.text).toMatch(new RegExp(`^${id} \\(gemini[^)]*\\) is OVERLOADED since`, 'm'));
      expect(recovery!.text).toMatch(new RegExp(`^${id} \\(gemini[^)]*\\) has RECOVERED`, 'm'));
    }
    expect(recovery!.subject).toMatch(/^\[modelpulse\] 3 alerts: nano-banana RECOVERED, /);
  });

  // Regression: grouped subjects used to be cut at 200 characters mid-word, dropping targets.
  it('names every target in the subject of a grouped recovery of four targets', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const ids = ['nano-banana-us', 'nano-banana-eu', 'nano-banana-pro', 'flash-legacy'];
    const models = [MODELS.flash, MODELS.flash, MODELS.pro, MODELS.legacy];
    const service = await w.start(
      ids.map((id, i) => w.target(id, models[i]!)),
      { email: emailSettings(inbox.port) },
    );
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(inbox.mails).toHaveLength(2);
    const recovery = inbox.mails[1]!;
    for (const id of ids) expect(recovery.text).toMatch(new RegExp(`^${id} \\(gemini[^)]*\\) has RECOVERED`, 'm'));
    expect(recovery.subject).toMatch(/^\[modelpulse\] 4 alerts: /);
    for (const id of ids) expect(recovery.subject).toMatch(new RegExp(`(: |, )${id} RECOVERED(,|$)`));
    expect(recovery.subject!.length).toBeLessThanOrEqual(200);
  });
});
