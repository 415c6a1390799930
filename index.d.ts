// Type definitions for acs-identity: the public surface of @azure/communication-identity 1.3.1
// (same class, constructors, methods, option and result types), plus the identifier helpers
// of @azure/communication-common, token decoding and the built-in emulator.
//
// The Azure types the official typings import (@azure/core-auth, @azure/core-client,
// @azure/communication-common) are declared here structurally, so this package has no
// dependencies, and credentials such as DefaultAzureCredential or AzureKeyCredential from
// those packages are accepted as they are.

// ----------------------------------------------------------------------------------------
// Structural stand-ins for the Azure core types

/** An abort signal (`AbortSignalLike` of @azure/abort-controller); a DOM/Node AbortSignal fits. */
export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: (this: AbortSignalLike, ev: any) => any, options?: any): void
  removeEventListener(type: 'abort', listener: (this: AbortSignalLike, ev: any) => any, options?: any): void
}

/** A credential holding an access key (`KeyCredential` of @azure/core-auth). */
export interface KeyCredential {
  readonly key: string
}

/** An Entra ID access token (`AccessToken` of @azure/core-auth). */
export interface AccessToken {
  token: string
  expiresOnTimestamp: number
  refreshAfterTimestamp?: number
  tokenType?: 'Bearer' | 'pop'
}

/** Options of `TokenCredential.getToken` (`GetTokenOptions` of @azure/core-auth). */
export interface GetTokenOptions {
  abortSignal?: AbortSignalLike
  requestOptions?: { timeout?: number }
  tracingOptions?: { tracingContext?: unknown }
  claims?: string
  enableCae?: boolean
  tenantId?: string
  proofOfPossessionOptions?: unknown
}

/** Anything that gives Entra ID tokens, e.g. `DefaultAzureCredential` (@azure/core-auth). */
export interface TokenCredential {
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>
}

/** `OperationRequestOptions` of @azure/core-client. */
export interface OperationRequestOptions {
  /** Headers to add to the request. An `x-ms-client-request-id` here is used as the request id. */
  customHeaders?: { [key: string]: string }
  /** Milliseconds an attempt may take before it is abandoned (and retried). Default: 30000. */
  timeout?: number
  /** Accepted for compatibility; ignored. */
  onUploadProgress?: (progress: { loadedBytes: number }) => void
  /** Accepted for compatibility; ignored. */
  onDownloadProgress?: (progress: { loadedBytes: number }) => void
  /** Accepted for compatibility; ignored. */
  shouldDeserialize?: boolean | ((response: any) => boolean)
  /** Accepted for compatibility; set it on the client options instead. */
  allowInsecureConnection?: boolean
}

/** `OperationOptions` of @azure/core-client. */
export interface OperationOptions {
  /** Cancels the operation, including any wait between retries. */
  abortSignal?: AbortSignalLike
  requestOptions?: OperationRequestOptions
  /** Accepted for compatibility; ignored. */
  tracingOptions?: { tracingContext?: unknown }
  /** Accepted for compatibility; ignored. */
  serializerOptions?: unknown
  /** Accepted for compatibility; ignored. */
  onResponse?: (rawResponse: any, flatResponse: unknown, error?: unknown) => void
}

/** Retry settings (`PipelineRetryOptions` of @azure/core-rest-pipeline). */
export interface PipelineRetryOptions {
  /** Retries after the first attempt. Default: 3. */
  maxRetries?: number
  /** Base of the exponential backoff, in milliseconds. Default: 1000. */
  retryDelayInMs?: number
  /** Longest wait between two attempts, in milliseconds. Default: 64000. */
  maxRetryDelayInMs?: number
}

/** `CommonClientOptions` of @azure/core-client: the settings acs-identity honours, and the rest accepted. */
export interface CommonClientOptions {
  retryOptions?: PipelineRetryOptions
  userAgentOptions?: { userAgentPrefix?: string }
  /** Allow plain `http://` to a host that is not loopback. Plain HTTP to loopback (the emulator) is always allowed. */
  allowInsecureConnection?: boolean
  /** The api-version to send. Default: `2023-10-01`. */
  apiVersion?: string
  /** Accepted for compatibility; ignored (the HTTP client is built in). */
  httpClient?: unknown
  /** Accepted for compatibility; ignored (use HTTPS_PROXY / HTTP_PROXY / NO_PROXY). */
  proxyOptions?: unknown
  /** Accepted for compatibility; ignored. */
  additionalPolicies?: unknown[]
  /** Accepted for compatibility; ignored. */
  telemetryOptions?: unknown
  /** Accepted for compatibility; ignored. */
  redirectOptions?: unknown
  /** Accepted for compatibility; ignored. */
  tlsOptions?: unknown
  /** Accepted for compatibility; ignored. */
  agent?: unknown
  /** Accepted for compatibility; ignored. */
  loggingOptions?: unknown
}

// ----------------------------------------------------------------------------------------
// Identifiers (@azure/communication-common)

export interface CommunicationUserIdentifier {
  communicationUserId: string
}
export interface PhoneNumberIdentifier {
  rawId?: string
  phoneNumber: string
  assertedId?: string
  isAnonymous?: boolean
}
export interface MicrosoftTeamsUserIdentifier {
  rawId?: string
  microsoftTeamsUserId: string
  isAnonymous?: boolean
  cloud?: 'public' | 'dod' | 'gcch'
}
export interface MicrosoftTeamsAppIdentifier {
  rawId?: string
  teamsAppId: string
  cloud?: 'public' | 'dod' | 'gcch'
}
export interface TeamsExtensionUserIdentifier {
  rawId?: string
  userId: string
  tenantId: string
  resourceId: string
  cloud?: 'public' | 'dod' | 'gcch'
}
export interface UnknownIdentifier {
  id: string
}
export type CommunicationIdentifier =
  | CommunicationUserIdentifier
  | PhoneNumberIdentifier
  | MicrosoftTeamsUserIdentifier
  | MicrosoftTeamsAppIdentifier
  | TeamsExtensionUserIdentifier
  | UnknownIdentifier
export interface CommunicationUserKind extends CommunicationUserIdentifier {
  kind: 'communicationUser'
}
export interface PhoneNumberKind extends PhoneNumberIdentifier {
  kind: 'phoneNumber'
}
export interface MicrosoftTeamsUserKind extends MicrosoftTeamsUserIdentifier {
  kind: 'microsoftTeamsUser'
}
export interface MicrosoftTeamsAppKind extends MicrosoftTeamsAppIdentifier {
  kind: 'microsoftTeamsApp'
}
export interface TeamsExtensionUserKind extends TeamsExtensionUserIdentifier {
  kind: 'teamsExtensionUser'
}
export interface UnknownIdentifierKind extends UnknownIdentifier {
  kind: 'unknown'
}
export type CommunicationIdentifierKind =
  | CommunicationUserKind
  | PhoneNumberKind
  | MicrosoftTeamsUserKind
  | MicrosoftTeamsAppKind
  | TeamsExtensionUserKind
  | UnknownIdentifierKind

export declare function isCommunicationUserIdentifier(identifier: CommunicationIdentifier): identifier is CommunicationUserIdentifier
export declare function isPhoneNumberIdentifier(identifier: CommunicationIdentifier): identifier is PhoneNumberIdentifier
export declare function isMicrosoftTeamsUserIdentifier(identifier: CommunicationIdentifier): identifier is MicrosoftTeamsUserIdentifier
export declare function isMicrosoftTeamsAppIdentifier(identifier: CommunicationIdentifier): identifier is MicrosoftTeamsAppIdentifier
export declare function isTeamsExtensionUserIdentifier(identifier: CommunicationIdentifier): identifier is TeamsExtensionUserIdentifier
export declare function isUnknownIdentifier(identifier: CommunicationIdentifier): identifier is UnknownIdentifier
export declare function getIdentifierKind(identifier: CommunicationIdentifier): CommunicationIdentifierKind
export declare function getIdentifierRawId(identifier: CommunicationIdentifier): string
export declare function createIdentifierFromRawId(rawId: string): CommunicationIdentifierKind

// ----------------------------------------------------------------------------------------
// The client (@azure/communication-identity 1.3.1)

/** The access token for a user. */
export declare interface CommunicationAccessToken {
  /** The access token issued for the user. */
  token: string
  /** The expiry time of the token. */
  expiresOn: Date
}

/** The issued token and the user it was issued for. */
export declare interface CommunicationUserToken extends CommunicationAccessToken {
  /** Represents the user the token was issued for */
  user: CommunicationUserIdentifier
}

/** Client options used to configure the CommunicationIdentity API requests. */
export declare interface CommunicationIdentityClientOptions extends CommonClientOptions {}

/** Options to create a single user (preview: `customId`). */
export declare interface CreateUserOptions extends OperationOptions {
  /** Preview (api-version 2025-03-02-preview): the same custom id returns the same user. */
  customId?: string
}

/** Options to create a single user and a token simultaneously. */
export declare interface CreateUserAndTokenOptions extends OperationOptions {
  /** Optional custom validity period of the token within [60,1440] minutes range. If not provided, the default value of 1440 minutes (24 hours) will be used. */
  tokenExpiresInMinutes?: number
  /** Preview (api-version 2025-03-02-preview): the same custom id returns the same user. */
  customId?: string
}

/** Options to create a scoped user token. */
export declare interface GetTokenOptions extends OperationOptions {
  /** Optional custom validity period of the token within [60,1440] minutes range. If not provided, the default value of 1440 minutes (24 hours) will be used. */
  tokenExpiresInMinutes?: number
}

/** Options used to exchange an AAD access token of a Teams user for a new Communication Identity access token. */
export declare interface GetTokenForTeamsUserOptions extends OperationOptions {
  /** Azure Active Directory access token of a Teams user. */
  teamsUserAadToken: string
  /** Client ID of an Azure AD application to be verified against the appId claim in the Azure AD access token. */
  clientId: string
  /** Object ID of an Azure AD user (Teams User) to be verified against the OID claim in the Azure AD access token. */
  userObjectId: string
}

/** A user's details (preview). */
export declare interface CommunicationUserDetail {
  customId?: string
  lastTokenIssuedAt?: Date
  user: CommunicationUserIdentifier
}

/** Represents the scope of the token. */
export declare type TokenScope = 'chat' | 'voip' | 'chat.join' | 'chat.join.limited' | 'voip.join'

/** Client class for interacting with Azure Communication Services User Token Management. */
export declare class CommunicationIdentityClient {
  /**
   * @param connectionString - e.g. "endpoint=https://contoso.eastus.communications.azure.net/;accesskey=secret"
   * @param options - Optional. Options to configure the HTTP pipeline.
   */
  constructor(connectionString: string, options?: CommunicationIdentityClientOptions)
  /** @param credential - An object with the access key, e.g. `AzureKeyCredential`; read on every request, so `update()` rotates it. */
  constructor(endpoint: string, credential: KeyCredential, options?: CommunicationIdentityClientOptions)
  /** @param credential - An Entra ID credential, e.g. `DefaultAzureCredential`. */
  constructor(endpoint: string, credential: TokenCredential, options?: CommunicationIdentityClientOptions)
  /** Creates a scoped user token. */
  getToken(user: CommunicationUserIdentifier, scopes: TokenScope[], options?: GetTokenOptions): Promise<CommunicationAccessToken>
  /** Revokes all data and tokens created for a user. */
  revokeTokens(user: CommunicationUserIdentifier, options?: OperationOptions): Promise<void>
  /** Creates a single user. */
  createUser(options?: CreateUserOptions): Promise<CommunicationUserIdentifier>
  /** Creates a single user and a token simultaneously. */
  createUserAndToken(scopes: TokenScope[], options?: CreateUserAndTokenOptions): Promise<CommunicationUserToken>
  /** Triggers revocation event for user and deletes all its data. */
  deleteUser(user: CommunicationUserIdentifier, options?: OperationOptions): Promise<void>
  /** Exchanges an Azure AD access token of a Teams user for a new Communication Identity access token with a matching expiration time. */
  getTokenForTeamsUser(options: GetTokenForTeamsUserOptions): Promise<CommunicationAccessToken>
  /** Gets a user's custom id and when a token was last issued (preview: api-version 2025-03-02-preview). */
  getUserDetail(user: CommunicationUserIdentifier, options?: OperationOptions): Promise<CommunicationUserDetail>
}

// ----------------------------------------------------------------------------------------
// Errors

/** The error of a failed request; compatible with `RestError` of @azure/core-rest-pipeline. */
export declare class RestError extends Error {
  static readonly REQUEST_SEND_ERROR: string
  static readonly PARSE_ERROR: string
  constructor(message: string, options?: { code?: string; statusCode?: number; request?: unknown; response?: unknown; details?: unknown })
  code?: string
  statusCode?: number
  request?: unknown
  response?: unknown
  details?: unknown
  /** How many HTTP attempts were made (not enumerable). */
  readonly attempts?: number
}
export declare function isRestError(e: unknown): e is RestError

/** The error of an aborted operation. */
export declare class AbortError extends Error {
  readonly code: 'ABORT_ERR'
}

// ----------------------------------------------------------------------------------------
// Connection strings, credentials, tokens

/** An access key credential that never shows its key in `util.inspect` or `JSON.stringify`. */
export declare class AzureKeyCredential implements KeyCredential {
  constructor(key: string)
  get key(): string
  update(newKey: string): void
}

/** Parses "endpoint=…;accesskey=…". The error never repeats the string, which holds the key. */
export declare function parseConnectionString(connectionString: string): { endpoint: string; credential: AzureKeyCredential }

/** The claims of an ACS access token. */
export interface DecodedAccessToken {
  communicationUserId: string
  scopes: string[]
  issuedAt: Date
  expiresOn: Date
  resourceId: string
}

/** Reads an ACS access token's claims without a network call (the signature is not checked). */
export declare function decodeAccessToken(token: string): DecodedAccessToken

// ----------------------------------------------------------------------------------------
// The emulator

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  /** Address to listen on. Default: 127.0.0.1. */
  host?: string
  /** The base64 access key to accept. Default: the documented development key. */
  accessKey?: string
  /** A second key to accept, as the service has. */
  secondaryKey?: string
  /** Tokens to accept as `Authorization: Bearer` (for clients built with a TokenCredential). */
  bearerTokens?: string[]
  /** Keep identities, custom ids, revocations and the signing key in a journal file in this folder. */
  dataDir?: string
  /** Serve TLS with a self-signed certificate (see `certificatePath`). */
  https?: boolean
  /** Answer 429 with Retry-After above the service's quotas. */
  throttling?: boolean
  /** The emulated resource's id (a GUID). Default: generated, and kept in `dataDir`. */
  resourceId?: string
}

/** What `verifyToken` says of a token. */
export type TokenVerdict =
  | { valid: true }
  | { valid: false; reason: 'expired' | 'revoked' | 'deleted' | 'malformed' | 'signature' | 'unknown-identity' }

/** A fault for the next `count` requests (default 1). */
export type EmulatorFault =
  | { count?: number; status: number; retryAfter?: string | number }
  | { count?: number; closeConnection: true }
  | { count?: number; delayMs: number }

/** A running emulator. */
export interface Emulator {
  /** e.g. `http://127.0.0.1:41234` */
  readonly endpoint: string
  /** `endpoint=<endpoint>/;accesskey=<key>`, for `new CommunicationIdentityClient(...)`. */
  readonly connectionString: string
  /** The primary access key. */
  readonly accessKey: string
  /** With `https`, the PEM file to trust (`NODE_EXTRA_CA_CERTS`). */
  readonly certificatePath?: string
  /** Whether a token the emulator issued is still valid, and why not. */
  verifyToken(token: string): Promise<TokenVerdict>
  /** Makes the next requests fail: a status, a dropped connection, or a delay. */
  injectFaults(fault: EmulatorFault): void
  /** Forgets the faults not used yet. */
  clearFaults(): void
  /** Stops the emulator. */
  close(): Promise<void>
}

/** Starts the ACS Identity emulator in this process. */
export declare function startEmulator(options?: EmulatorOptions): Promise<Emulator>
