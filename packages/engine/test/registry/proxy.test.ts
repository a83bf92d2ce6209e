import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StackerError } from '../../src/errors';
import { proxyAuthorization, proxyFor, shownProxy } from '../../src/registry/proxy';

const chosen = (url: string, env: NodeJS.ProcessEnv) => proxyFor(new URL(url), env)?.href;

test('the proxy is chosen by scheme, upper case first, a bare host:port meaning http', () => {
  const env = { HTTPS_PROXY: 'proxy.corp:3128', http_proxy: 'http://plain.corp:8080' };
  assert.equal(chosen('https://registry.example/v2/', env), 'http://proxy.corp:3128/');
  assert.equal(chosen('http://files.example/a.tar', env), 'http://plain.corp:8080/');
  assert.equal(
    chosen('https://registry.example/v2/', { ...env, https_proxy: 'http://lower:1' }),
    'http://proxy.corp:3128/',
  );
  assert.equal(chosen('https://registry.example/v2/', {}), undefined);
});

test('localhost and loopback addresses are never proxied', () => {
  const env = { HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128' };
  for (const url of ['https://localhost:5000/', 'http://127.0.0.1:5000/', 'https://[::1]/']) {
    assert.equal(chosen(url, env), undefined, url);
  }
});

test('NO_PROXY: names with their subdomains, leading dots, IPs, CIDR blocks, ports, *', () => {
  const env = {
    HTTPS_PROXY: 'http://proxy:3128',
    NO_PROXY: 'internal.corp, .svc.local,10.1.2.3,192.168.0.0/16, registry.example:5000',
  };
  const direct = [
    'https://internal.corp/',
    'https://a.b.internal.corp/',
    'https://x.svc.local/',
    'https://10.1.2.3/',
    'https://192.168.44.5:443/',
    'https://registry.example:5000/',
  ];
  for (const url of direct) assert.equal(chosen(url, env), undefined, url);
  const proxied = [
    'https://notinternal.corp/',
    'https://svc.local/',
    'https://10.1.2.4/',
    'https://192.169.0.1/',
    'https://registry.example/',
  ];
  for (const url of proxied) assert.equal(chosen(url, env), 'http://proxy:3128/', url);
  assert.equal(chosen('https://anything/', { HTTPS_PROXY: 'p:1', no_proxy: '*' }), undefined);
});

test("a proxy's credentials go in Proxy-Authorization and are never shown", () => {
  const proxy = new URL('http://us%40er:s3cr%3At@proxy.corp:3128');
  assert.deepEqual(proxyAuthorization(proxy), {
    'Proxy-Authorization': `Basic ${Buffer.from('us@er:s3cr:t').toString('base64')}`,
  });
  assert.equal(shownProxy(proxy), 'http://proxy.corp:3128');
  assert.deepEqual(proxyAuthorization(new URL('http://proxy.corp:3128')), {});
});

test('a proxy variable that is no usable url is an error naming it, not its value', () => {
  const env = { HTTPS_PROXY: 'socks5://user:pw-1234@proxy:1080' };
  assert.throws(
    () => proxyFor(new URL('https://registry.example/v2/'), env),
    (err: StackerError) =>
      err.message === 'HTTPS_PROXY is not a proxy url nx-stacker can use' &&
      !err.format().includes('pw-1234'),
  );
  // An empty upper-case variable leaves the lower-case one in charge, as in Go.
  assert.equal(
    proxyFor(new URL('https://registry.example/'), { HTTPS_PROXY: '', https_proxy: 'p:1' })?.href,
    'http://p:1/',
  );
});
