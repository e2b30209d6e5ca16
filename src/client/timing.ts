// The client's timers: an injectable wait, a deadline on it, and promises a signal can cut short.

/** A wait of `ms` that a signal can cut short (rejecting with its reason). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A signal that aborts with a TimeoutError once `sleep` has waited `ms`; cancel() ends the wait when the work is over. */
export function deadlineOn(sleep: Sleep, ms: number): { signal: AbortSignal; cancel: () => void } {
  const timeout = new AbortController();
  const over = new AbortController();
  sleep(ms, over.signal).then(
    () => {
      if (!over.signal.aborted)
        timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    },
    () => {},
  );
  return { signal: timeout.signal, cancel: () => over.abort() };
}

/** Settles with the promise, or rejects as soon as the caller's signal aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** The default sleep: a real timer; one that must not keep the process alive (keepAlive false) is unref'd. */
export function wait(ms: number, signal?: AbortSignal, keepAlive = true): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    if (!keepAlive) timer.unref();
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
