'use strict'

// The JS face of acs-identity: the exact API of @azure/communication-identity 1.3.1 over the
// native client in binding.js. This file only checks arguments, converts shapes (Dates,
// identifiers) and rebuilds errors; HTTP, signing, retries and the emulator are in Rust.

const fs = require('node:fs')
const os = require('node:os')
const util = require('node:util')
const native = require('./binding.js')
const { version: PACKAGE_VERSION } = require('./package.json')

const ERROR_MARKER = 'ACS_ERROR:'

// ---------------------------------------------------------------------------------------
// Errors

/**
 * The error of a failed request, compatible with `RestError` of `@azure/core-rest-pipeline`
 * (`name`, `message`, `code`, `statusCode`, `details`, non-enumerable `request`/`response`).
 */
class RestError extends Error {
  constructor(message, options = {}) {
    super(message)
    this.name = 'RestError'
    if (options.code !== undefined && options.code !== null) this.code = options.code
    if (options.statusCode !== undefined) this.statusCode = options.statusCode
    Object.defineProperty(this, 'request', { value: options.request, enumerable: false, writable: true })
    Object.defineProperty(this, 'response', { value: options.response, enumerable: false, writable: true })
    this.details = options.details
    Object.setPrototypeOf(this, RestError.prototype)
  }
}
RestError.REQUEST_SEND_ERROR = 'REQUEST_SEND_ERROR'
RestError.PARSE_ERROR = 'PARSE_ERROR'

/** Whether `e` is a `RestError` (ours or any other with that name). */
function isRestError(e) {
  return e instanceof RestError || (e instanceof Error && e.name === 'RestError')
}

/** The error an aborted operation rejects with, as in `@azure/abort-controller`. */
class AbortError extends Error {
  constructor(message = 'The operation was aborted.') {
    super(message)
    this.name = 'AbortError'
    this.code = 'ABORT_ERR'
  }
}

// The official client renames `innererror` to `innerError` in `details` (§4.3).
function renameInnerErrors(value) {
  if (Array.isArray(value)) return value.map(renameInnerErrors)
  if (value === null || typeof value !== 'object') return value
  const out = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key === 'innererror' ? 'innerError' : key] = renameInnerErrors(inner)
  }
  return out
}

/** Turns a rejection of the native layer into the error a user of the official client expects. */
function toJsError(error, credentialErrors) {
  const text = error && typeof error.message === 'string' ? error.message : ''
  // A value napi could not convert (a check the facade missed): still a TypeError.
  if (error && /^(InvalidArg|\w+Expected)$/.test(error.code) && !(error instanceof TypeError)) return new TypeError(text)
  if (!text.startsWith(ERROR_MARKER)) return error
  let info
  try {
    info = JSON.parse(text.slice(ERROR_MARKER.length))
  } catch {
    return error
  }
  const request = { requestId: info.requestId ?? undefined }
  const attempts = info.attempts
  let result
  switch (info.kind) {
    case 'service': {
      const details = info.details === null || typeof info.details !== 'object' ? {} : renameInnerErrors(info.details)
      result = new RestError(info.message, {
        code: info.code ?? undefined,
        statusCode: info.statusCode,
        details,
        request,
        response: { status: info.statusCode, request, bodyAsText: info.details === null ? '' : JSON.stringify(info.details) },
      })
      break
    }
    case 'connection':
      result = new RestError(info.message, { code: RestError.REQUEST_SEND_ERROR, request })
      break
    case 'timeout':
      result = new RestError(info.message, { code: 'ETIMEDOUT', request })
      break
    case 'decode':
      result = new RestError(info.message, { code: RestError.PARSE_ERROR, request })
      break
    case 'aborted':
      return new AbortError()
    case 'credential': {
      // Rethrow the credential's own error, as the official pipeline does.
      const original = credentialErrors && credentialErrors.shift()
      if (original) return original
      result = new Error(info.message)
      result.name = 'CredentialUnavailableError'
      return result
    }
    case 'invalid-argument':
      return new TypeError(info.message)
    default:
      result = new Error(info.message)
  }
  if (attempts > 0) Object.defineProperty(result, 'attempts', { value: attempts, enumerable: false })
  return result
}

// Synchronous native calls (constructors, parsers) throw; rethrow as the right JS error.
function callNative(fn) {
  try {
    return fn()
  } catch (error) {
    throw toJsError(error)
  }
}

// ---------------------------------------------------------------------------------------
// Argument checks: what cannot be sent at all is refused before any request, saying what
// is wrong. What the service judges (scope names, expiry range, empty lists) is sent as the
// official client sends it, so the service's RestError comes back exactly as before.

function describe(value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value)
  return typeof value === 'object' || typeof value === 'function' ? `a ${typeof value}` : `${typeof value} ${String(value)}`
}

function checkUser(user, name = 'user') {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    throw new TypeError(`${name} must be a CommunicationUserIdentifier ({ communicationUserId: string }), got ${describe(user)}`)
  }
  const id = user.communicationUserId
  if (typeof id !== 'string') {
    throw new TypeError(`${name}.communicationUserId must be a string, got ${describe(id)}`)
  }
  if (id.length === 0) throw new TypeError(`${name}.communicationUserId must not be empty`)
  return id
}

function checkScopes(scopes) {
  if (!Array.isArray(scopes)) throw new TypeError(`scopes must be an array of TokenScope strings, got ${describe(scopes)}`)
  for (let i = 0; i < scopes.length; i++) {
    if (typeof scopes[i] !== 'string') throw new TypeError(`scopes[${i}] must be a string, got ${describe(scopes[i])}`)
  }
  return scopes
}

function checkExpiry(minutes) {
  if (minutes === undefined || minutes === null) return undefined
  if (typeof minutes !== 'number') throw new TypeError(`tokenExpiresInMinutes must be a number, got ${describe(minutes)}`)
  if (!Number.isSafeInteger(minutes)) throw new RangeError(`tokenExpiresInMinutes must be a whole number of minutes, got ${minutes}`)
  return minutes
}

function checkOptions(options, name = 'options') {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object') throw new TypeError(`${name} must be an object, got ${describe(options)}`)
  return options
}

function checkString(value, name, { allowEmpty = true } = {}) {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`)
  if (!allowEmpty && value.length === 0) throw new TypeError(`${name} must not be empty`)
  return value
}

function nativeOperationOptions(options) {
  const requestOptions = options.requestOptions
  if (requestOptions === undefined || requestOptions === null) return undefined
  if (typeof requestOptions !== 'object') throw new TypeError(`requestOptions must be an object, got ${describe(requestOptions)}`)
  const result = {}
  const { timeout, customHeaders } = requestOptions
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== 'number') throw new TypeError(`requestOptions.timeout must be a number of milliseconds, got ${describe(timeout)}`)
    if (!(timeout >= 0) || !Number.isFinite(timeout)) throw new RangeError(`requestOptions.timeout must be a non-negative number of milliseconds, got ${timeout}`)
    result.timeoutInMs = timeout
  }
  if (customHeaders !== undefined && customHeaders !== null) {
    if (typeof customHeaders !== 'object') throw new TypeError(`requestOptions.customHeaders must be an object, got ${describe(customHeaders)}`)
    const headers = {}
    for (const [name, value] of Object.entries(customHeaders)) headers[name] = String(value)
    result.customHeaders = headers
  }
  return result
}

function checkAbortSignal(signal) {
  if (signal === undefined || signal === null) return undefined
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean') {
    throw new TypeError(`abortSignal must be an AbortSignal, got ${describe(signal)}`)
  }
  return signal
}

// ---------------------------------------------------------------------------------------
// Credentials

/**
 * A key credential whose key `util.inspect` and `JSON.stringify` never show (the
 * `credential` of `parseConnectionString`). Same API as `AzureKeyCredential`.
 */
class AzureKeyCredential {
  #key
  constructor(key) {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('key must be a non-empty string')
    this.#key = key
  }
  get key() {
    return this.#key
  }
  update(newKey) {
    if (typeof newKey !== 'string' || newKey.length === 0) throw new TypeError('newKey must be a non-empty string')
    this.#key = newKey
  }
  toJSON() {
    return { key: '<redacted>' }
  }
  [util.inspect.custom]() {
    return 'AzureKeyCredential { key: <redacted> }'
  }
}

// §1.3: a key credential has a string `key` and no `getToken`; a token credential has a
// `getToken` function.
function isKeyCredential(c) {
  return c !== null && typeof c === 'object' && typeof c.key === 'string' && c.getToken === undefined
}

function isTokenCredential(c) {
  return (
    c !== null &&
    (typeof c === 'object' || typeof c === 'function') &&
    typeof c.getToken === 'function' &&
    (c.signRequest === undefined || c.getToken.length > 0)
  )
}

let extraCaCertificates
function readExtraCaCertificates() {
  if (extraCaCertificates === undefined) {
    extraCaCertificates = null
    const file = process.env.NODE_EXTRA_CA_CERTS
    if (file) {
      try {
        extraCaCertificates = fs.readFileSync(file, 'utf8')
      } catch {
        // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS; nothing to add.
      }
    }
  }
  return extraCaCertificates ?? undefined
}

const USER_AGENT = `acs-identity/${PACKAGE_VERSION} Node/${process.versions.node} (${os.type()} ${os.release()}; ${os.arch()})`

function nativeClientOptions(options) {
  const retry = options.retryOptions ?? {}
  if (typeof retry !== 'object') throw new TypeError(`retryOptions must be an object, got ${describe(retry)}`)
  const number = (value, name) => {
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number, got ${describe(value)}`)
    return value
  }
  const userAgentOptions = options.userAgentOptions ?? {}
  const prefix = userAgentOptions.userAgentPrefix
  if (prefix !== undefined && typeof prefix !== 'string') throw new TypeError(`userAgentOptions.userAgentPrefix must be a string, got ${describe(prefix)}`)
  const apiVersion = options.apiVersion
  if (apiVersion !== undefined && typeof apiVersion !== 'string') throw new TypeError(`apiVersion must be a string, got ${describe(apiVersion)}`)
  return {
    apiVersion,
    maxRetries: number(retry.maxRetries, 'retryOptions.maxRetries'),
    retryDelayInMs: number(retry.retryDelayInMs, 'retryOptions.retryDelayInMs'),
    maxRetryDelayInMs: number(retry.maxRetryDelayInMs, 'retryOptions.maxRetryDelayInMs'),
    userAgentPrefix: prefix,
    userAgent: USER_AGENT,
    allowInsecureConnection: options.allowInsecureConnection === true,
    extraCaCertificates: readExtraCaCertificates(),
  }
}

// ---------------------------------------------------------------------------------------
// The client

/**
 * Client class for interacting with Azure Communication Services User Token Management.
 * A drop-in for `CommunicationIdentityClient` of `@azure/communication-identity` 1.3.1.
 */
class CommunicationIdentityClient {
  #native
  #keyCredential
  #lastKey
  #credentialErrors = []

  constructor(connectionStringOrEndpoint, credentialOrOptions, maybeOptions) {
    checkString(connectionStringOrEndpoint, 'the first argument (a connection string or an endpoint)')
    if (isKeyCredential(credentialOrOptions)) {
      const options = nativeClientOptions(checkOptions(maybeOptions))
      checkString(credentialOrOptions.key, 'credential.key', { allowEmpty: false })
      this.#keyCredential = credentialOrOptions
      this.#lastKey = credentialOrOptions.key
      this.#native = callNative(() => native.NativeClient.withKey(connectionStringOrEndpoint, this.#lastKey, options))
    } else if (isTokenCredential(credentialOrOptions)) {
      const options = nativeClientOptions(checkOptions(maybeOptions))
      const credential = credentialOrOptions
      const errors = this.#credentialErrors
      const getToken = async (scopes) => {
        try {
          const token = await credential.getToken(scopes, {})
          if (!token || typeof token.token !== 'string') {
            throw new TypeError('the TokenCredential returned no token (expected { token: string, expiresOnTimestamp: number })')
          }
          return { token: token.token, expiresOnTimestamp: Number(token.expiresOnTimestamp) }
        } catch (error) {
          // Kept so that the operation rejects with the credential's own error.
          errors.push(error)
          if (errors.length > 16) errors.shift()
          throw error
        }
      }
      this.#native = callNative(() => native.NativeClient.withTokenCredential(connectionStringOrEndpoint, getToken, options))
    } else {
      if (credentialOrOptions !== undefined && credentialOrOptions !== null && typeof credentialOrOptions !== 'object') {
        throw new TypeError(`the second argument must be a KeyCredential, a TokenCredential or options, got ${describe(credentialOrOptions)}`)
      }
      const options = nativeClientOptions(checkOptions(credentialOrOptions))
      this.#native = callNative(() => native.NativeClient.fromConnectionString(connectionStringOrEndpoint, options))
    }
  }

  // Runs a native call with the operation's abort signal, mapping its errors.
  async #call(options, invoke) {
    const signal = checkAbortSignal(options.abortSignal)
    const operation = nativeOperationOptions(options)
    if (this.#keyCredential !== undefined) {
      const key = this.#keyCredential.key
      if (key !== this.#lastKey) {
        checkString(key, 'credential.key', { allowEmpty: false })
        this.#native.updateKey(key)
        this.#lastKey = key
      }
    }
    if (signal === undefined) {
      try {
        return await invoke(operation, undefined)
      } catch (error) {
        throw toJsError(error, this.#credentialErrors)
      }
    }
    if (signal.aborted) throw new AbortError()
    const cancellation = new native.Cancellation()
    const onAbort = () => cancellation.cancel()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await invoke(operation, cancellation)
    } catch (error) {
      throw toJsError(error, this.#credentialErrors)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Creates a single user. `customId` (preview) returns the same user for the same id. */
  async createUser(options) {
    options = checkOptions(options)
    const customId = options.customId === undefined ? undefined : checkString(options.customId, 'customId')
    const id = await this.#call(options, (op, c) => this.#native.createUser(customId, op, c))
    return { communicationUserId: id }
  }

  /** Creates a single user and a token simultaneously. */
  async createUserAndToken(scopes, options) {
    checkScopes(scopes)
    options = checkOptions(options)
    const expires = checkExpiry(options.tokenExpiresInMinutes)
    const customId = options.customId === undefined ? undefined : checkString(options.customId, 'customId')
    const result = await this.#call(options, (op, c) => this.#native.createUserAndToken(scopes, expires, customId, op, c))
    const user = { communicationUserId: result.communicationUserId }
    // Same key order as the official client: token, expiresOn, user.
    if (result.token === undefined || result.token === null) return { user }
    return { token: result.token, expiresOn: new Date(result.expiresOn), user }
  }

  /** Creates a scoped user token. */
  async getToken(user, scopes, options) {
    const id = checkUser(user)
    checkScopes(scopes)
    options = checkOptions(options)
    const expires = checkExpiry(options.tokenExpiresInMinutes)
    const result = await this.#call(options, (op, c) => this.#native.getToken(id, scopes, expires, op, c))
    return { token: result.token, expiresOn: new Date(result.expiresOn) }
  }

  /** Revokes all data and tokens created for a user. */
  async revokeTokens(user, options) {
    const id = checkUser(user)
    options = checkOptions(options)
    await this.#call(options, (op, c) => this.#native.revokeTokens(id, op, c))
  }

  /** Triggers revocation event for user and deletes all its data. */
  async deleteUser(user, options) {
    const id = checkUser(user)
    options = checkOptions(options)
    await this.#call(options, (op, c) => this.#native.deleteUser(id, op, c))
  }

  /**
   * Exchanges an Azure AD access token of a Teams user for a new Communication Identity
   * access token with a matching expiration time.
   */
  async getTokenForTeamsUser(options) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be { teamsUserAadToken, clientId, userObjectId }, got ${describe(options)}`)
    }
    const token = checkString(options.teamsUserAadToken, 'teamsUserAadToken')
    const clientId = checkString(options.clientId, 'clientId')
    const userObjectId = checkString(options.userObjectId, 'userObjectId')
    const result = await this.#call(options, (op, c) => this.#native.getTokenForTeamsUser(token, clientId, userObjectId, op, c))
    return { token: result.token, expiresOn: new Date(result.expiresOn) }
  }

  /** Gets a user's details: its custom id and when a token was last issued (preview). */
  async getUserDetail(user, options) {
    const id = checkUser(user)
    options = checkOptions(options)
    const result = await this.#call(options, (op, c) => this.#native.getUserDetail(id, op, c))
    return {
      user: { communicationUserId: result.communicationUserId },
      customId: result.customId ?? undefined,
      lastTokenIssuedAt: result.lastTokenIssuedAt === undefined || result.lastTokenIssuedAt === null ? undefined : new Date(result.lastTokenIssuedAt),
    }
  }

  [util.inspect.custom]() {
    return 'CommunicationIdentityClient {}'
  }
}

// ---------------------------------------------------------------------------------------
// Identifiers (`@azure/communication-common`, §2.2-2.4)

const isObject = (x) => x !== null && typeof x === 'object'
const isCommunicationUserIdentifier = (id) => isObject(id) && typeof id.communicationUserId === 'string'
const isPhoneNumberIdentifier = (id) => isObject(id) && typeof id.phoneNumber === 'string'
const isMicrosoftTeamsUserIdentifier = (id) => isObject(id) && typeof id.microsoftTeamsUserId === 'string'
const isMicrosoftTeamsAppIdentifier = (id) => isObject(id) && typeof id.teamsAppId === 'string'
const isTeamsExtensionUserIdentifier = (id) =>
  isObject(id) && typeof id.userId === 'string' && typeof id.tenantId === 'string' && typeof id.resourceId === 'string'
const isUnknownIdentifier = (id) => isObject(id) && typeof id.id === 'string'

/** The identifier with its `kind`, checked in the official order. */
function getIdentifierKind(identifier) {
  const kind = isCommunicationUserIdentifier(identifier)
    ? 'communicationUser'
    : isPhoneNumberIdentifier(identifier)
      ? 'phoneNumber'
      : isMicrosoftTeamsUserIdentifier(identifier)
        ? 'microsoftTeamsUser'
        : isMicrosoftTeamsAppIdentifier(identifier)
          ? 'microsoftTeamsApp'
          : isTeamsExtensionUserIdentifier(identifier)
            ? 'teamsExtensionUser'
            : 'unknown'
  return { ...identifier, kind }
}

/** The raw id of an identifier (`undefined` for an unknown one without `id`). */
function getIdentifierRawId(identifier) {
  const k = getIdentifierKind(identifier)
  if (k.kind === 'communicationUser') return k.communicationUserId
  if (k.kind === 'unknown') return k.id
  if (k.rawId) return k.rawId
  const raw = native.nativeRawId({
    kind: k.kind,
    phoneNumber: k.phoneNumber,
    microsoftTeamsUserId: k.microsoftTeamsUserId,
    teamsAppId: k.teamsAppId,
    userId: k.userId,
    tenantId: k.tenantId,
    resourceId: k.resourceId,
    isAnonymous: k.isAnonymous === true,
    cloud: typeof k.cloud === 'string' ? k.cloud : undefined,
  })
  return raw ?? undefined
}

/** Parses a raw id into an identifier with its `kind`. */
function createIdentifierFromRawId(rawId) {
  if (typeof rawId !== 'string') throw new TypeError(`rawId must be a string, got ${describe(rawId)}`)
  const n = native.nativeIdentifierFromRawId(rawId)
  switch (n.kind) {
    case 'communicationUser':
      return { kind: n.kind, communicationUserId: n.communicationUserId }
    case 'phoneNumber':
      return { kind: n.kind, phoneNumber: n.phoneNumber, isAnonymous: n.isAnonymous, assertedId: n.assertedId ?? undefined }
    case 'microsoftTeamsUser':
      return n.isAnonymous
        ? { kind: n.kind, microsoftTeamsUserId: n.microsoftTeamsUserId, isAnonymous: true }
        : { kind: n.kind, microsoftTeamsUserId: n.microsoftTeamsUserId, isAnonymous: false, cloud: n.cloud }
    case 'microsoftTeamsApp':
      return { kind: n.kind, teamsAppId: n.teamsAppId, cloud: n.cloud }
    case 'teamsExtensionUser':
      return { kind: n.kind, userId: n.userId, tenantId: n.tenantId, resourceId: n.resourceId, cloud: n.cloud }
    default:
      return { kind: 'unknown', id: n.id }
  }
}

// ---------------------------------------------------------------------------------------
// Connection strings and tokens

/** Parses `endpoint=…;accesskey=…`. The error never repeats the string (it holds the key). */
function parseConnectionString(connectionString) {
  checkString(connectionString, 'connectionString')
  const parsed = callNative(() => native.nativeParseConnectionString(connectionString))
  return { endpoint: parsed.endpoint, credential: new AzureKeyCredential(parsed.accessKey) }
}

/**
 * Reads an ACS access token's claims without a network call (the signature is not checked).
 * @returns {{ communicationUserId: string, scopes: string[], issuedAt: Date, expiresOn: Date, resourceId: string }}
 */
function decodeAccessToken(token) {
  checkString(token, 'token')
  const claims = callNative(() => native.nativeDecodeAccessToken(token))
  return {
    communicationUserId: claims.communicationUserId,
    scopes: claims.scopes,
    issuedAt: new Date(claims.issuedAt * 1000),
    expiresOn: new Date(claims.expiresOn * 1000),
    resourceId: claims.resourceId,
  }
}

// ---------------------------------------------------------------------------------------
// The emulator

/**
 * A running ACS Identity emulator: `endpoint`, `connectionString`, `accessKey`,
 * `certificatePath` (with `https`), `verifyToken(token)`, `injectFaults(fault)`,
 * `clearFaults()` and `close()`.
 */
class Emulator {
  #native
  constructor(nativeEmulator) {
    this.#native = nativeEmulator
    this.endpoint = nativeEmulator.endpoint
    this.connectionString = nativeEmulator.connectionString
    Object.defineProperty(this, 'accessKey', { value: nativeEmulator.accessKey, enumerable: false })
    this.certificatePath = nativeEmulator.certificatePath ?? undefined
  }

  /** Whether a token the emulator issued is still valid: `{ valid, reason }`. */
  async verifyToken(token) {
    checkString(token, 'token')
    const verdict = this.#native.verifyToken(token)
    return verdict.valid ? { valid: true } : { valid: false, reason: verdict.reason ?? 'malformed' }
  }

  /**
   * Makes the next `count` requests (default 1) fail: `{ status, retryAfter? }` answers that
   * status, `{ closeConnection: true }` drops the connection, `{ delayMs }` delays the answer.
   */
  injectFaults(fault) {
    if (fault === null || typeof fault !== 'object') throw new TypeError(`fault must be an object, got ${describe(fault)}`)
    const retryAfter = fault.retryAfter === undefined ? undefined : String(fault.retryAfter)
    callNative(() => this.#native.injectFaults({ ...fault, retryAfter }))
  }

  /** Forgets the faults not used yet. */
  clearFaults() {
    this.#native.clearFaults()
  }

  /** Stops the emulator. */
  async close() {
    await this.#native.close()
  }

  [util.inspect.custom]() {
    return `Emulator { endpoint: ${JSON.stringify(this.endpoint)} }`
  }
}

/**
 * Starts the ACS Identity emulator in this process. Options: `port` (0, the default, picks a
 * free one), `host` (default 127.0.0.1), `accessKey` (default: the documented development
 * key), `secondaryKey`, `bearerTokens`, `dataDir` (persist to a journal file there), `https`,
 * `throttling`, `resourceId`.
 */
async function startEmulator(options = {}) {
  options = checkOptions(options)
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw new RangeError(`port must be a whole number from 0 to 65535, got ${describe(options.port)}`)
  }
  for (const name of ['host', 'accessKey', 'secondaryKey', 'dataDir', 'resourceId']) {
    if (options[name] !== undefined) checkString(options[name], name, { allowEmpty: false })
  }
  for (const name of ['https', 'throttling']) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(options[name])}`)
  }
  if (options.bearerTokens !== undefined && (!Array.isArray(options.bearerTokens) || !options.bearerTokens.every((x) => typeof x === 'string'))) {
    throw new TypeError('bearerTokens must be an array of strings')
  }
  const native_ = await native.nativeStartEmulator({
    host: options.host,
    port: options.port,
    accessKey: options.accessKey,
    secondaryKey: options.secondaryKey,
    bearerTokens: options.bearerTokens,
    dataDir: options.dataDir,
    https: options.https,
    throttling: options.throttling,
    resourceId: options.resourceId,
  }).catch((error) => {
    throw toJsError(error)
  })
  return new Emulator(native_)
}

module.exports = {
  CommunicationIdentityClient,
  startEmulator,
  AzureKeyCredential,
  RestError,
  AbortError,
  isRestError,
  isCommunicationUserIdentifier,
  isPhoneNumberIdentifier,
  isMicrosoftTeamsUserIdentifier,
  isMicrosoftTeamsAppIdentifier,
  isTeamsExtensionUserIdentifier,
  isUnknownIdentifier,
  getIdentifierKind,
  getIdentifierRawId,
  createIdentifierFromRawId,
  parseConnectionString,
  decodeAccessToken,
}
