import type { Readable } from 'node:stream';
import type { Logger } from '../log';
import type { Credentials } from './auth-file';
import { authFilePaths } from './auth-file';
import { type Challenge, parseChallenges } from './challenge';
import {
  errorDetail,
  RegistryAuthError,
  RegistryHttpError,
  RegistryUnreachableError,
} from './errors';
import { PROXY_HINT } from './proxy';
import { attemptsOf, isTransientStatus, TransientStatus, withRetries } from './retry';
import { Secrets } from './secrets';
import {
  type HttpRequest,
  type HttpResponse,
  isCertificateError,
  redact,
  send,
  TransportError,
} from './transport';

export interface ClientOptions {
  /** The registry as references write it (`docker.io`, `127.0.0.1:5000`): named in messages. */
  registry: string;
  /** `host[:port]` the API answers on. */
  endpoint: string;
  /** Accept any certificate and fall back to plain http (`insecure: true`, `--skip-tls`). */
  insecure: boolean;
  credentials?: Credentials;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

/** One call of the registry API. */
export interface RegistryRequest {
  method: HttpRequest['method'];
  /** A path below the registry (`/v2/<name>/manifests/<ref>`) or an absolute upload url. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | (() => Readable);
  bodyLength?: number;
  /** Token scopes the call needs, e.g. `repository:library/ubuntu:pull`. */
  scopes: string[];
  followRedirects?: boolean;
}

/**
 * Talks to one registry (distribution spec v2): picks https, or with `insecure` falls back to
 * plain http when https cannot connect; answers Bearer challenges by getting a token from the
 * realm (with Basic credentials when there are any) and Basic challenges with the
 * credentials; retries transient failures. Credentials and tokens are kept in `secrets` and
 * never put in a message. Responses are returned whatever their status, except 401 and
 * transient ones, which it handles or turns into errors.
 */
export class RegistryClient {
  readonly secrets = new Secrets();
  private scheme: 'https:' | 'http:' | undefined;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(readonly opts: ClientOptions) {
    this.secrets.addCredentials(opts.credentials);
  }

  /** Sends `req` with authentication and retries; see the class comment. */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    const { log, signal, registry } = this.opts;
    try {
      return await withRetries(
        async () => {
          const res = await this.authenticated(req);
          if (!isTransientStatus(res.status)) return res;
          const detail = this.secrets.scrub(await errorDetail(res));
          throw new TransientStatus(res.status, `${registry} answered ${res.status} ${detail}`);
        },
        { signal, onRetry: (err) => log.debug(`${registry}: ${err.message}; trying again`) },
      );
    } catch (err) {
      throw this.finalError(err);
    }
  }

  /** The url `path` resolves to on this registry (https until http is known to be the one). */
  urlFor(path: string): URL {
    return new URL(path, `${this.scheme ?? 'https:'}//${this.opts.endpoint}`);
  }

  private async authenticated(req: RegistryRequest): Promise<HttpResponse> {
    const first = await this.reach(req);
    if (first.status !== 401) return first;

    const challenges = parseChallenges(first.headers['www-authenticate']);
    first.discard();
    await this.authenticate(challenges, req.scopes);
    const second = await this.reach(req);
    if (second.status !== 401) return second;
    second.discard();
    throw this.rejected(req.scopes);
  }

  /** Sends once, trying https then (insecure only) http until one scheme is known to work. */
  private async reach(req: RegistryRequest): Promise<HttpResponse> {
    const absolute = /^https?:\/\//.test(req.path);
    const schemes = absolute
      ? [new URL(req.path).protocol]
      : this.scheme
        ? [this.scheme]
        : this.opts.insecure
          ? ['https:', 'http:']
          : ['https:'];
    const tried: string[] = [];
    let last: TransportError | undefined;
    for (const scheme of schemes) {
      const url = absolute
        ? new URL(req.path)
        : new URL(req.path, `${scheme}//${this.opts.endpoint}`);
      try {
        const res = await send({
          method: req.method,
          url,
          headers: { ...req.headers, ...this.authHeader(req.scopes) },
          body: req.body,
          bodyLength: req.bodyLength,
          verifyTls: !this.opts.insecure,
          env: this.opts.env,
          signal: this.opts.signal,
          followRedirects: req.followRedirects,
        });
        if (!absolute) this.scheme = scheme as 'https:' | 'http:';
        return res;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        tried.push(`${req.method} ${err.url}: ${err.message}`);
        last = err;
      }
    }
    throw new TransportError(tried.join('; then '), last?.code, last?.url ?? req.path);
  }

  private authHeader(scopes: string[]): Record<string, string> {
    const token = this.tokens.get(scopeKey(scopes));
    if (token) return { Authorization: `Bearer ${token}` };
    const creds = this.opts.credentials;
    if (this.basic && creds) return { Authorization: basicAuth(creds) };
    return {};
  }

  private async authenticate(challenges: Challenge[], scopes: string[]): Promise<void> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const token = await this.fetchToken(bearer.params, scopes);
      this.secrets.add(token);
      this.tokens.set(scopeKey(scopes), token);
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const creds = this.opts.credentials;
      if (!creds) throw this.missing(scopes);
      if (creds.identityToken && !creds.username && !creds.password) {
        throw new RegistryAuthError(
          `registry ${this.opts.registry} asks for a user name and password, but ` +
            `${creds.source} holds only an identity token, which works with Bearer token ` +
            'servers alone',
          `log in with a user name and password ('skopeo login ${this.opts.registry}')`,
        );
      }
      this.basic = true;
      return;
    }
    throw new RegistryAuthError(
      `registry ${this.opts.registry} answered 401 without a challenge nx-stacker understands`,
      'the registry must offer Bearer or Basic authentication',
    );
  }

  /**
   * A token from the realm of a Bearer challenge, for our scopes and the challenge's: asked
   * for with GET and Basic credentials, or, for an identity token, with an OAuth2
   * refresh-token grant POSTed as a form (as containers/image does).
   */
  private async fetchToken(params: Record<string, string>, scopes: string[]): Promise<string> {
    const url = new URL(params.realm as string);
    const wanted = [...new Set([...scopes, ...(params.scope ?? '').split(' ').filter(Boolean)])];
    const creds = this.opts.credentials;
    const identityToken = creds?.identityToken;
    let form: Buffer | undefined;
    if (identityToken) {
      const fields = new URLSearchParams();
      fields.set('grant_type', 'refresh_token');
      fields.set('refresh_token', identityToken);
      fields.set('client_id', 'nx-stacker');
      if (params.service) fields.set('service', params.service);
      if (wanted.length) fields.set('scope', wanted.join(' '));
      form = Buffer.from(fields.toString());
    } else {
      if (params.service) url.searchParams.set('service', params.service);
      for (const scope of wanted) url.searchParams.append('scope', scope);
    }

    const res = await withRetries(
      async () => {
        const r = await send({
          method: form ? 'POST' : 'GET',
          url,
          headers: form
            ? { 'Content-Type': 'application/x-www-form-urlencoded' }
            : creds
              ? { Authorization: basicAuth(creds) }
              : {},
          body: form,
          verifyTls: !this.opts.insecure,
          env: this.opts.env,
          signal: this.opts.signal,
          followRedirects: true,
        });
        if (isTransientStatus(r.status)) {
          r.discard();
          throw new TransientStatus(r.status, `token server answered ${r.status}`);
        }
        return r;
      },
      { signal: this.opts.signal },
    );
    // OAuth2 servers answer a refresh token they do not accept with 400 invalid_grant.
    if (res.status === 401 || res.status === 403 || (form && res.status === 400)) {
      res.discard();
      throw creds ? this.rejected(scopes) : this.missing(scopes);
    }
    if (res.status !== 200) {
      const detail = this.secrets.scrub(await errorDetail(res));
      throw new RegistryHttpError(
        `token server ${redact(url)} answered ${res.status}${detail ? `: ${detail}` : ''}`,
        res.status,
      );
    }
    const body = JSON.parse((await res.read(1 << 20)).toString('utf8')) as {
      token?: string;
      access_token?: string;
    };
    const token = body.token ?? body.access_token;
    if (!token) {
      throw new RegistryHttpError(`token server ${redact(url)} sent no token`, res.status);
    }
    return token;
  }

  private missing(scopes: string[]): RegistryAuthError {
    const files = authFilePaths(this.opts.env).join(', ');
    return new RegistryAuthError(
      `registry ${this.opts.registry} needs credentials (for ${scopes.join(' ')}) and none ` +
        'were found',
      `log in with 'skopeo login ${this.opts.registry}' (or podman/docker login), or add an ` +
        `entry for ${this.opts.registry} to one of: ${files}`,
    );
  }

  private rejected(scopes: string[]): RegistryAuthError {
    const creds = this.opts.credentials;
    const source = creds?.source ?? 'no credentials';
    const what = creds?.identityToken ? 'the identity token' : 'the credentials';
    return new RegistryAuthError(
      `registry ${this.opts.registry} refused ${what} from ${source} ` +
        `(for ${scopes.join(' ')})`,
      creds?.identityToken
        ? 'identity tokens expire: log in again (they are not shown here), and check that ' +
            'the account may access this repository'
        : 'check the user name and password there (they are not shown here), and that the ' +
            'account may access this repository',
    );
  }

  /** What a failure after all retries looks like to the user. */
  private finalError(err: unknown): unknown {
    const { registry, insecure } = this.opts;
    const attempts = attemptsOf(err);
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    if (err instanceof TransientStatus) {
      return new RegistryHttpError(`${err.message}${tries}`, err.status);
    }
    if (!(err instanceof TransportError)) return err;
    const message = `couldn't reach registry ${registry}: ${err.message}${tries}`;
    let hint = `check that ${registry} is up and reachable from here`;
    if (err.code === 'EPROXY') {
      hint = PROXY_HINT;
    } else if (isCertificateError(err)) {
      hint =
        "the registry's certificate is not trusted: add its CA to the system's store or to " +
        'NODE_EXTRA_CA_CERTS, or skip verification (insecure: true; --skip-tls for publish)';
    } else if (err.code === 'EPROTO' && !insecure) {
      hint = 'the registry may speak plain http: set insecure: true (--skip-tls for publish)';
    }
    return new RegistryUnreachableError(message, [err.message], hint);
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

function basicAuth(creds: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}
