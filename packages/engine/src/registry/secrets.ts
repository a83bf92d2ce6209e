/**
 * Values that must never be shown: passwords, `user:password` in base64, bearer tokens. Every
 * message built from text a server sent passes through `scrub` before it can reach a log or
 * an error, in case the server echoed something back.
 */
export class Secrets {
  private readonly values = new Set<string>();

  /** Remembers a secret (values shorter than 4 characters would mask ordinary words). */
  add(value: string | undefined): void {
    if (value && value.length >= 4) this.values.add(value);
  }

  /** Remembers a password, the Basic credential made of it, and an identity token. */
  addCredentials(
    creds: { username: string; password: string; identityToken?: string } | undefined,
  ): void {
    if (!creds) return;
    this.add(creds.identityToken);
    this.add(creds.password);
    this.add(Buffer.from(`${creds.username}:${creds.password}`).toString('base64'));
  }

  /** `text` with every known secret replaced by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.values) out = out.split(value).join('***');
    return out;
  }
}
