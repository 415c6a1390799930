// Requests on the wire: each operation is sent by our client and by the official
// @azure/communication-identity 1.3.1 client to a recording server, and the two requests are
// compared (method, path, query, body, headers); signatures are checked with node:crypto.

import test from 'ava'
import { createRequire } from 'node:module'
import { startCaptureServer } from './helpers/capture-server.mjs'
import { verifyCapturedRequest, contentHash } from './helpers/hmac.mjs'

const require = createRequire(import.meta.url)
const ours = require('../index.js')
const official = require('@azure/communication-identity')

const KEY = Buffer.from('a test access key of some length').toString('base64')
const USER = { communicationUserId: '8:acs:resource_a b/c?d' }

const operations = {
  createUser: (c) => c.createUser(),
  createUserAndToken: (c) => c.createUserAndToken(['chat', 'voip']),
  createUserAndTokenWithExpiry: (c) => c.createUserAndToken(['chat.join'], { tokenExpiresInMinutes: 60 }),
  createUserAndTokenEmptyScopes: (c) => c.createUserAndToken([]),
  getToken: (c) => c.getToken(USER, ['voip']),
  getTokenWithExpiry: (c) => c.getToken(USER, ['chat', 'voip.join'], { tokenExpiresInMinutes: 59 }),
  getTokenEmptyScopes: (c) => c.getToken(USER, []),
  revokeTokens: (c) => c.revokeTokens(USER),
  deleteUser: (c) => c.deleteUser(USER),
  getTokenForTeamsUser: (c) => c.getTokenForTeamsUser({ teamsUserAadToken: 'aad', clientId: 'app', userObjectId: 'oid' }),
}

async function capture(Client, operation, server) {
  const own = server === undefined
  server ??= await startCaptureServer()
  const before = server.requests.length
  try {
    const client = new Client(`endpoint=${server.endpoint}/;accesskey=${KEY}`, { allowInsecureConnection: true })
    const result = await operation(client)
    return { request: server.requests[before], count: server.requests.length - before, result }
  } finally {
    if (own) await server.close()
  }
}

for (const [name, operation] of Object.entries(operations)) {
  test(`${name}: the same request as the official client`, async (t) => {
    const server = await startCaptureServer()
    t.teardown(() => server.close())
    const mine = await capture(ours.CommunicationIdentityClient, operation, server)
    const theirs = await capture(official.CommunicationIdentityClient, operation, server)
    t.is(mine.count, 1)
    t.is(mine.request.method, theirs.request.method)
    t.is(mine.request.url, theirs.request.url)
    t.is(mine.request.body, theirs.request.body)
    for (const header of ['content-type', 'accept', 'host', 'x-ms-content-sha256']) {
      t.is(mine.request.headers[header], theirs.request.headers[header], header)
    }
    t.is(mine.request.headers['content-length'] ?? '0', theirs.request.headers['content-length'] ?? '0')
    t.regex(mine.request.headers['x-ms-date'], /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
    t.regex(mine.request.headers['x-ms-client-request-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    t.regex(mine.request.headers['user-agent'], /acs-identity\/\d+\.\d+\.\d+ .*Node\//)
    t.deepEqual(verifyCapturedRequest(mine.request, KEY), { ok: true, why: 'signature' })
    t.deepEqual(verifyCapturedRequest(theirs.request, KEY), { ok: true, why: 'signature' })
    // Results: same keys in the same order, same values (Dates compared by time).
    t.deepEqual(Object.keys(mine.result ?? {}), Object.keys(theirs.result ?? {}))
    t.deepEqual(mine.result, theirs.result)
  })
}

test('the path id is percent-encoded like encodeURIComponent', async (t) => {
  const { request } = await capture(ours.CommunicationIdentityClient, operations.getToken)
  t.is(request.url, '/identities/8%3Aacs%3Aresource_a%20b%2Fc%3Fd/:issueAccessToken?api-version=2023-10-01')
})

test('createUser sends no body but the hash of the empty string', async (t) => {
  const { request } = await capture(ours.CommunicationIdentityClient, operations.createUser)
  t.is(request.body, '')
  t.is(request.headers['x-ms-content-sha256'], contentHash(''))
  t.is(request.headers['x-ms-content-sha256'], '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')
})

test('apiVersion, userAgentPrefix and custom headers are sent', async (t) => {
  const server = await startCaptureServer()
  try {
    const client = new ours.CommunicationIdentityClient(`endpoint=${server.endpoint};accesskey=${KEY}`, {
      apiVersion: '2022-10-01',
      userAgentOptions: { userAgentPrefix: 'myapp/1.0' },
    })
    await client.createUser({ requestOptions: { customHeaders: { 'x-custom': 'yes', 'x-ms-client-request-id': 'my-request-id' } } })
    const [request] = server.requests
    t.is(request.url, '/identities?api-version=2022-10-01')
    t.true(request.headers['user-agent'].startsWith('myapp/1.0 '))
    t.is(request.headers['x-custom'], 'yes')
    t.is(request.headers['x-ms-client-request-id'], 'my-request-id')
    t.true(verifyCapturedRequest(request, KEY).ok)
  } finally {
    await server.close()
  }
})

test('the endpoint + key credential form reads the key on every request (rotation)', async (t) => {
  const server = await startCaptureServer()
  try {
    const credential = new ours.AzureKeyCredential(KEY)
    const client = new ours.CommunicationIdentityClient(server.endpoint, credential)
    await client.createUser()
    const rotated = Buffer.from('a rotated key').toString('base64')
    credential.update(rotated)
    await client.createUser()
    t.true(verifyCapturedRequest(server.requests[0], KEY).ok)
    t.false(verifyCapturedRequest(server.requests[1], KEY).ok)
    t.true(verifyCapturedRequest(server.requests[1], rotated).ok)
  } finally {
    await server.close()
  }
})

test('a token credential is asked for the ACS scope and its token is sent as Bearer', async (t) => {
  const server = await startCaptureServer()
  try {
    const calls = []
    const credential = {
      async getToken(scopes) {
        calls.push(scopes)
        return { token: 'entra-token', expiresOnTimestamp: Date.now() + 3600_000 }
      },
    }
    const client = new ours.CommunicationIdentityClient(server.endpoint, credential)
    await client.createUser()
    await client.getToken({ communicationUserId: '8:acs:x' }, ['chat'])
    t.deepEqual(calls, [['https://communication.azure.com//.default']], 'the token is cached between calls')
    for (const request of server.requests) {
      t.is(request.headers.authorization, 'Bearer entra-token')
      t.is(request.headers['x-ms-date'], undefined)
    }
  } finally {
    await server.close()
  }
})

test('a failing token credential rejects with its own error', async (t) => {
  const server = await startCaptureServer()
  try {
    class CredentialUnavailableError extends Error {
      name = 'CredentialUnavailableError'
    }
    const client = new ours.CommunicationIdentityClient(server.endpoint, {
      getToken: async () => {
        throw new CredentialUnavailableError('no credential here')
      },
    })
    const error = await t.throwsAsync(client.createUser())
    t.true(error instanceof CredentialUnavailableError)
    t.is(server.requests.length, 0)
  } finally {
    await server.close()
  }
})
