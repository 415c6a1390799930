// The exports acs-identity adds to the official surface, and checks that wrong uses fail to
// compile (each `@ts-expect-error` line must be an error, or tsc fails).

import {
  CommunicationIdentityClient,
  createIdentifierFromRawId,
  decodeAccessToken,
  getIdentifierKind,
  getIdentifierRawId,
  isCommunicationUserIdentifier,
  isRestError,
  parseConnectionString,
  CommunicationIdentifierKind,
} from "../..";

export async function extras(client: CommunicationIdentityClient): Promise<void> {
  const user = await client.createUser({ customId: "alice@contoso.com" });
  const detail = await client.getUserDetail(user);
  const issued: Date | undefined = detail.lastTokenIssuedAt;
  console.log(detail.customId, issued);

  const kind: CommunicationIdentifierKind = getIdentifierKind(user);
  if (kind.kind === "communicationUser") console.log(kind.communicationUserId);
  const raw: string = getIdentifierRawId({ phoneNumber: "+14255550123" });
  console.log(createIdentifierFromRawId(raw), isCommunicationUserIdentifier(user));

  const { endpoint, credential } = parseConnectionString("endpoint=https://x/;accesskey=a2V5");
  credential.update("bmV3");
  console.log(endpoint, credential.key);

  const claims = decodeAccessToken("a.b.c");
  const expires: Date = claims.expiresOn;
  const scopes: string[] = claims.scopes;
  console.log(expires, scopes, claims.communicationUserId, claims.resourceId, claims.issuedAt);

  try {
    await client.getToken(user, ["voip"]);
  } catch (e) {
    if (isRestError(e)) console.log(e.statusCode, e.code, e.details);
  }

  // @ts-expect-error: "video" is not a TokenScope
  await client.getToken(user, ["video"]);
  // @ts-expect-error: a user is an identifier object, not a string
  await client.revokeTokens("8:acs:x");
  // @ts-expect-error: tokenExpiresInMinutes is a number
  await client.createUserAndToken(["chat"], { tokenExpiresInMinutes: "60" });
  // @ts-expect-error: the Teams exchange needs clientId and userObjectId
  await client.getTokenForTeamsUser({ teamsUserAadToken: "t" });
}

export async function emulatorTypes(): Promise<void> {
  const { startEmulator } = await import("../..");
  const emulator = await startEmulator({ port: 0, https: false, dataDir: "/tmp/x" });
  const client = new CommunicationIdentityClient(emulator.connectionString);
  const { token } = await client.createUserAndToken(["voip"]);
  const verdict = await emulator.verifyToken(token);
  if (!verdict.valid) console.log(verdict.reason);
  emulator.injectFaults({ count: 2, status: 503, retryAfter: "1" });
  emulator.injectFaults({ closeConnection: true });
  // @ts-expect-error: a fault needs a status, closeConnection or delayMs
  emulator.injectFaults({ count: 1 });
  await emulator.close();
}
