// oidc-provider (node-oidc-provider) as a third-party app's authorization server, for Switchboard's tests.
//
// Configuration is one JSON document, in the OIDC_PROVIDER_CONFIG environment variable or as the first
// argument:
//   {
//     "port": 0,                       // 0: any free port; the issuer is http://127.0.0.1:<port>
//     "clients": [{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//                  "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post"}],
//                  (oidc-provider accepts either secret method, whichever is registered)
//     "scopes": ["openid", "email", "profile", "offline_access", "tasks:read", "tasks:write"],
//     "resources": {"https://api.example/": "tasks:read tasks:write"},   // RFC 8707 indicators
//     "access_token_ttl": 3600, "refresh_token_ttl": 86400,
//     "registration": false,           // true: open dynamic client registration (RFC 7591) at /reg
//     "jwt_access_tokens": false       // true: access tokens for a resource are JWTs (RFC 9068) its
//                                      // resource server verifies with the provider's JWKS
//   }
// Prints "ready <issuer>" on stdout once it accepts connections.
//
// Besides the provider's own endpoints it serves, for tests only:
//   GET  /__stats          counts of token requests by grant_type (and failures), revocations, userinfo
//                          calls, and one record per token request (grant_type, status, client auth)
//   POST /__stats/reset    zeroes them
//   POST /__grants/revoke  destroys every grant, as when the person removes the app's access at the
//                          provider: their refresh tokens then fail with invalid_grant

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

// oidc-provider announces its development-only defaults (in-memory storage, built-in login pages,
// generated keys) on the console; here they are the point, so those notices are dropped.
const DEV_NOTICE = /^oidc-provider (WARNING|NOTICE): .*(development-only|default \S+ function called|experimental|Breaking changes|acknowledging)/i;
for (const level of ['warn', 'info']) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    if (typeof args[0] === 'string' && DEV_NOTICE.test(args[0])) return;
    original(...args);
  };
}

const { default: Provider, errors } = await import('oidc-provider');

const config = JSON.parse(process.env.OIDC_PROVIDER_CONFIG || process.argv[2] || '{}');
const scopes = config.scopes ?? ['openid', 'email', 'profile', 'offline_access'];
const resources = config.resources ?? {};
const accessTokenTTL = config.access_token_ttl ?? 3600;
const refreshTokenTTL = config.refresh_token_ttl ?? 24 * 60 * 60;

function emailOf(login) {
  return login.includes('@') ? login : `${login}@example.com`;
}

function nameOf(login) {
  return login.split('@')[0];
}

// Any login name is an account (the built-in login page accepts any password).
async function findAccount(ctx, accountId) {
  return {
    accountId,
    async claims() {
      return { sub: accountId, email: emailOf(accountId), email_verified: true, name: nameOf(accountId) };
    },
  };
}

function signingKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' }] };
}

function newStats() {
  return { token: {}, token_errors: {}, revocations: 0, revocation_errors: 0, userinfo: 0, token_requests: [] };
}

let stats = newStats();
const grantIds = new Set();

function countRequest(ctx, paths) {
  if (ctx.method !== 'POST' && ctx.path !== paths.userinfo) return;
  const failed = ctx.status >= 400;
  if (ctx.path === paths.token) {
    const grantType = ctx.oidc?.params?.grant_type ?? '(none)';
    stats.token[grantType] = (stats.token[grantType] ?? 0) + 1;
    if (failed) stats.token_errors[grantType] = (stats.token_errors[grantType] ?? 0) + 1;
    stats.token_requests.push({
      grant_type: grantType,
      status: ctx.status,
      client_auth: ctx.get('authorization').toLowerCase().startsWith('basic ')
        ? 'client_secret_basic'
        : (ctx.oidc?.body?.client_secret ? 'client_secret_post' : 'none'),
      resource: ctx.oidc?.params?.resource ?? null,
      error: failed ? (ctx.body?.error ?? null) : null,
    });
  } else if (ctx.path === paths.revocation) {
    stats.revocations += 1;
    if (failed) stats.revocation_errors += 1;
  } else if (ctx.path === paths.userinfo) {
    stats.userinfo += 1;
  }
}

async function revokeAllGrants(provider) {
  for (const id of grantIds) {
    const grant = await provider.Grant.find(id);
    await grant?.destroy();
  }
  const count = grantIds.size;
  grantIds.clear();
  return count;
}

const server = createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    revocation_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  })),
  findAccount,
  jwks: signingKeys(),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  scopes,
  pkce: { required: () => true },
  // Every code grant of a client allowed refresh_token gets a refresh token, offline_access or not; each
  // use rotates it (the old one is spent, and using it again revokes the whole grant).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  clientBasedCORS: () => false,
  // oidc-provider honours tokens 15 s past their expiry by default; tests of expiry need it exact.
  clockTolerance: 0,
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: Boolean(config.registration) },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        if (!(indicator in resources)) throw new errors.InvalidTarget();
        const accessTokenFormat = config.jwt_access_tokens ? 'jwt' : 'opaque';
        return { scope: resources[indicator], accessTokenFormat, accessTokenTTL, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  ttl: {
    AccessToken: () => accessTokenTTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: () => refreshTokenTTL,
    Grant: refreshTokenTTL,
    Interaction: 3600,
    Session: 3600,
  },
});

provider.on('grant.saved', (grant) => grantIds.add(grant.jti));

const paths = {
  token: new URL(provider.urlFor('token')).pathname,
  revocation: new URL(provider.urlFor('revocation')).pathname,
  userinfo: new URL(provider.urlFor('userinfo')).pathname,
};

provider.use(async (ctx, next) => {
  if (ctx.path === '/__stats' && ctx.method === 'GET') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/__stats/reset' && ctx.method === 'POST') {
    stats = newStats();
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__grants/revoke' && ctx.method === 'POST') {
    ctx.body = { revoked: await revokeAllGrants(provider) };
    return;
  }
  await next();
  countRequest(ctx, paths);
  // The built-in pages load a web font; tests run without the internet and must not wait for it.
  if (typeof ctx.body === 'string' && ctx.body.includes('@import url(https://fonts.googleapis.com')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
});

server.on('request', provider.callback());
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
console.log(`ready ${issuer}`);
