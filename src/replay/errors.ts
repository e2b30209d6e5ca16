/** A problem with what the user asked for (option, file, setting): one line naming the field, exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
}
