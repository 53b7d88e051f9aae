// The official MCP TypeScript SDK client against a Switchboard MCP server, driven by a Python test.
//
//   node run.mjs SERVER_URL REDIRECT_URI CLIENT_NAME
//
// The client knows only the server's URL: it reads the 401, discovers the authorization server, registers
// itself and starts the authorization with PKCE. Its redirectToAuthorization writes
// {"authorize": URL} on a line of stdout and the test, as the person, answers with the URL the browser was
// redirected to, on a line of stdin. The client then lists the tools, calls whoami, makes its access token
// unusable to have it refreshed, and calls whoami again. The last line of stdout is {"result": …}, or
// {"denied": …} when the redirect carries an error, or {"failed": …}.
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";

import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [serverUrl, redirectUri, clientName] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function say(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

class MemoryProvider {
  constructor() {
    this.authorizationUrls = [];
    this.redirects = [];
  }
  get redirectUrl() {
    return redirectUri;
  }
  get clientMetadata() {
    return { client_name: clientName, redirect_uris: [redirectUri] };
  }
  state() {
    return randomUUID();
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(client) {
    this.client = client;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url) {
    this.authorizationUrls.push(url.href);
    say({ authorize: url.href });
    const answer = await lines.next();
    if (answer.done) throw new Error("stdin closed before the redirect came back");
    this.redirects.push(new URL(answer.value.trim()));
  }
}

// Every request the SDK sends (discovery, registration, tokens, MCP), with the token requests' grants.
const requests = [];
async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  const body = init?.body;
  const grant = typeof body === "string" || body instanceof URLSearchParams
    ? new URLSearchParams(body.toString()).get("grant_type")
    : null;
  requests.push({ method: init?.method ?? "GET", path: new URL(url).pathname, status: response.status, grant });
  return response;
}

function transport(provider) {
  return new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider, fetch: recordingFetch });
}

async function connect(provider) {
  const client = new Client({ name: clientName, version: "1.0.0" });
  const connection = transport(provider);
  await client.connect(connection);
  return { client, transport: connection };
}

function text(result) {
  return result.content.filter((block) => block.type === "text").map((block) => block.text).join("\n");
}

async function main() {
  const provider = new MemoryProvider();
  let session;
  try {
    session = await connect(provider);
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || provider.redirects.length === 0) throw error;
    const redirect = provider.redirects.at(-1);
    if (redirect.searchParams.has("error")) {
      say({
        denied: {
          error: redirect.searchParams.get("error"),
          error_description: redirect.searchParams.get("error_description"),
          authorization_urls: provider.authorizationUrls,
          has_tokens: Boolean(provider.tokens()),
        },
      });
      return;
    }
    await transport(provider).finishAuth(redirect.searchParams.get("code"));
    session = await connect(provider);
  }
  const { client, transport: connection } = session;
  const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
  const whoami = await client.callTool({ name: "whoami", arguments: {} });
  const before = provider.tokens();
  provider.saveTokens({ ...before, access_token: `${before.access_token}-unusable` });
  const again = await client.callTool({ name: "whoami", arguments: {} });
  const after = provider.tokens();
  say({
    result: {
      client_id: provider.clientInformation()?.client_id,
      tools,
      whoami: { text: text(whoami), is_error: Boolean(whoami.isError) },
      whoami_after_refresh: { text: text(again), is_error: Boolean(again.isError) },
      refresh_token: Boolean(before.refresh_token),
      refreshed: after.access_token !== before.access_token && !after.access_token.endsWith("-unusable"),
      rotated: Boolean(after.refresh_token) && after.refresh_token !== before.refresh_token,
      authorization_urls: provider.authorizationUrls,
      protocol_version: connection.protocolVersion,
      server: client.getServerVersion(),
      token_grants: requests.filter((request) => request.grant).map((request) => [request.grant, request.status]),
    },
  });
  await client.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    say({ failed: String(error?.stack ?? error) });
    process.exit(1);
  },
);
