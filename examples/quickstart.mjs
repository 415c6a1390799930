// The official ACS Identity quickstart's flow with acs-identity: create an identity, issue a
// voip token, create an identity and a token in one call, refresh a token, revoke, delete.
//
// Against your ACS resource when COMMUNICATION_SERVICES_CONNECTION_STRING is set; otherwise
// against the built-in emulator, started here.

import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { CommunicationIdentityClient, startEmulator, decodeAccessToken } = require('../index.js')

let emulator
let connectionString = process.env.COMMUNICATION_SERVICES_CONNECTION_STRING
if (connectionString) {
  console.log('Azure Communication Services - Access Tokens Quickstart (your ACS resource)')
} else {
  emulator = await startEmulator()
  connectionString = emulator.connectionString
  console.log(`Azure Communication Services - Access Tokens Quickstart (built-in emulator at ${emulator.endpoint})`)
}

try {
  const identityClient = new CommunicationIdentityClient(connectionString)

  // Create an identity
  const identityResponse = await identityClient.createUser()
  console.log(`\nCreated an identity with ID: ${identityResponse.communicationUserId}`)

  // Issue an access token with a validity of 24 hours and the "voip" scope for an identity
  const tokenResponse = await identityClient.getToken(identityResponse, ['voip'])
  const { token, expiresOn } = tokenResponse
  console.log(`\nIssued an access token with 'voip' scope that expires at ${expiresOn.toISOString()}:`)
  console.log(`${token.slice(0, 24)}… (${token.length} characters)`)

  // Issue an access token with a validity of an hour and the "voip" scope for an identity
  const tokenOptions = { tokenExpiresInMinutes: 60 }
  const shortLived = await identityClient.getToken(identityResponse, ['voip'], tokenOptions)
  console.log(`\nIssued an access token with 'voip' scope and custom expiration that expires at ${shortLived.expiresOn.toISOString()}`)

  // Create an identity and issue an access token in one call
  const identityTokenResponse = await identityClient.createUserAndToken(['voip'])
  const { user } = identityTokenResponse
  console.log(`\nCreated an identity with ID: ${user.communicationUserId}`)
  console.log(`Issued an access token with 'voip' scope that expires at ${identityTokenResponse.expiresOn.toISOString()}`)

  // Refresh an access token
  const refreshed = await identityClient.getToken(identityResponse, ['voip'])
  const claims = decodeAccessToken(refreshed.token)
  console.log(`\nRefreshed the access token: scopes ${claims.scopes.join(',')}, issued for ${claims.communicationUserId}`)

  // Revoke access tokens
  await identityClient.revokeTokens(identityResponse)
  console.log(`\nSuccessfully revoked all access tokens for identity with ID: ${identityResponse.communicationUserId}`)
  if (emulator) {
    const verdict = await emulator.verifyToken(refreshed.token)
    console.log(`The emulator now says of the refreshed token: valid=${verdict.valid} (${verdict.reason})`)
  }

  // Delete an identity
  await identityClient.deleteUser(identityResponse)
  await identityClient.deleteUser(user)
  console.log(`\nDeleted the identities with IDs: ${identityResponse.communicationUserId}, ${user.communicationUserId}`)
} catch (error) {
  console.error('Quickstart failed:', error)
  process.exitCode = 1
} finally {
  await emulator?.close()
}
