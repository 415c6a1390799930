// The three clients the benchmark compares, each behind the same small interface:
// ours (acs-identity), the official @azure/communication-identity 1.3.1, and "limit": the
// cheapest client one can write (undici pool, signature cached per second), to show how much
// headroom is left.

import crypto from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export async function loadClient(kind, connectionString) {
  const started = performance.now()
  let client
  if (kind === 'ours') {
    const { CommunicationIdentityClient } = require('../index.js')
    const requireMs = performance.now() - started
    client = new CommunicationIdentityClient(connectionString)
    return { client, requireMs }
  }
  if (kind === 'official') {
    const { CommunicationIdentityClient } = require('@azure/communication-identity')
    const requireMs = performance.now() - started
    client = new CommunicationIdentityClient(connectionString, { allowInsecureConnection: true })
    return { client, requireMs }
  }
  if (kind === 'limit') {
    const undici = require('undici')
    const requireMs = performance.now() - started
    return { client: new LimitClient(undici, connectionString), requireMs }
  }
  throw new Error(`unknown client ${kind}`)
}

/** A minimal ACS client: undici keep-alive pool, HMAC computed once per (date, request). */
class LimitClient {
  constructor(undici, connectionString) {
    const [, endpoint, key] = /endpoint=(.*);accesskey=(.*)/i.exec(connectionString)
    this.url = new URL(endpoint)
    this.key = Buffer.from(key, 'base64')
    this.pool = new undici.Pool(this.url.origin, { connections: 128, pipelining: 1 })
    this.cache = new Map()
    this.cachedDate = ''
  }

  #headers(method, pathAndQuery, body) {
    const date = new Date().toUTCString()
    if (date !== this.cachedDate) {
      this.cache.clear()
      this.cachedDate = date
    }
    const cacheKey = `${method} ${pathAndQuery} ${body}`
    let headers = this.cache.get(cacheKey)
    if (!headers) {
      const hash = crypto.createHash('sha256').update(body).digest('base64')
      const toSign = `${method}\n${pathAndQuery}\n${date};${this.url.host};${hash}`
      const signature = crypto.createHmac('sha256', this.key).update(toSign).digest('base64')
      headers = {
        'content-type': 'application/json',
        'x-ms-date': date,
        'x-ms-content-sha256': hash,
        authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
      }
      this.cache.set(cacheKey, headers)
    }
    return headers
  }

  async #send(method, path, body, expected) {
    const pathAndQuery = `${path}?api-version=2023-10-01`
    const response = await this.pool.request({ method, path: pathAndQuery, body, headers: this.#headers(method, pathAndQuery, body) })
    const text = await response.body.text()
    if (response.statusCode !== expected) throw new Error(`status ${response.statusCode}: ${text}`)
    return text ? JSON.parse(text) : undefined
  }

  async createUser() {
    const r = await this.#send('POST', '/identities', '', 201)
    return { communicationUserId: r.identity.id }
  }

  async createUserAndToken(scopes) {
    const r = await this.#send('POST', '/identities', JSON.stringify({ createTokenWithScopes: scopes }), 201)
    return { token: r.accessToken.token, expiresOn: new Date(r.accessToken.expiresOn), user: { communicationUserId: r.identity.id } }
  }

  async getToken(user, scopes) {
    const r = await this.#send('POST', `/identities/${encodeURIComponent(user.communicationUserId)}/:issueAccessToken`, JSON.stringify({ scopes }), 200)
    return { token: r.token, expiresOn: new Date(r.expiresOn) }
  }

  async revokeTokens(user) {
    await this.#send('POST', `/identities/${encodeURIComponent(user.communicationUserId)}/:revokeAccessTokens`, '', 204)
  }

  async deleteUser(user) {
    await this.#send('DELETE', `/identities/${encodeURIComponent(user.communicationUserId)}`, '', 204)
  }
}

/** The operations measured, each given the client and a fresh user when it needs one. */
export const OPERATIONS = {
  createUser: { needsUser: false, run: (c) => c.createUser() },
  createUserAndToken: { needsUser: false, run: (c) => c.createUserAndToken(['chat']) },
  getToken: { needsUser: 'shared', run: (c, user) => c.getToken(user, ['voip']) },
  revokeTokens: { needsUser: 'shared', run: (c, user) => c.revokeTokens(user) },
  deleteUser: { needsUser: 'each', run: (c, user) => c.deleteUser(user) },
}
