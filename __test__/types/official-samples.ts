// The official samples of @azure/communication-identity 1.3.1 (samples/v1/typescript/src:
// issueToken, createUserAndToken, revokeTokens, getTokenForTeamsUser), unchanged but for the
// import path. `npm run typecheck` compiles this file against our index.d.ts: if our typings
// drift from the official ones, these samples stop compiling.

import { CommunicationIdentityClient, CommunicationUserToken, TokenScope } from "../..";
import { AzureKeyCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";

const connectionString = process.env["COMMUNICATION_CONNECTION_STRING"] || "<connection string>";
const endpoint = process.env["COMMUNICATION_SERVICE_ENDPOINT"] || "https://<resource-name>.communication.azure.com";

// issueToken.ts
export async function issueToken(): Promise<void> {
  const client = new CommunicationIdentityClient(connectionString);
  console.log("Creating User");
  const user = await client.createUser();
  console.log("Issuing Token");
  const { token } = await client.getToken(user, ["chat"]);
  console.log("Issued token:");
  console.log(token);
  const tokenOptions = { tokenExpiresInMinutes: 60 };
  const tokenWithExpiry = await client.getToken(user, ["chat"], tokenOptions);
  console.log(tokenWithExpiry.token, tokenWithExpiry.expiresOn.toISOString());
}

// createUserAndToken.ts
export async function createUserAndToken(): Promise<void> {
  const client = new CommunicationIdentityClient(connectionString);
  const scopes: TokenScope[] = ["chat"];
  console.log("Creating user and token");
  const userToken: CommunicationUserToken = await client.createUserAndToken(scopes);
  console.log(`Created user with id: ${userToken.user.communicationUserId}`);
  console.log(`Issued token: ${userToken.token}, expires on ${userToken.expiresOn.getTime()}`);
  const withExpiry = await client.createUserAndToken(scopes, { tokenExpiresInMinutes: 60 });
  console.log(withExpiry.expiresOn);
}

// revokeTokens.ts
export async function revokeTokens(): Promise<void> {
  const client = new CommunicationIdentityClient(connectionString);
  const user = await client.createUser();
  await client.getToken(user, ["chat"]);
  await client.getToken(user, ["voip"]);
  await client.getToken(user, ["voip"]);
  console.log("Revoking tokens");
  await client.revokeTokens(user);
  console.log("Tokens revoked");
}

// getTokenForTeamsUser.ts (the MSAL part of the sample produces these three strings)
export async function getTokenForTeamsUser(teamsToken: string, aadAppId: string, uniqueId: string): Promise<void> {
  const credential = new DefaultAzureCredential();
  const client = new CommunicationIdentityClient(endpoint, credential);
  console.log("Exchanging Azure AD access token of a Teams User for a new Communication Identity access token");
  const communicationAccessToken = await client.getTokenForTeamsUser({
    teamsUserAadToken: teamsToken,
    clientId: aadAppId,
    userObjectId: uniqueId,
  });
  console.log(`Exchanged Communication access token: ${communicationAccessToken.token}`);
}

// README of the official package: endpoint + AzureKeyCredential, options everywhere.
export async function keyCredentialAndOptions(): Promise<void> {
  const client = new CommunicationIdentityClient(endpoint, new AzureKeyCredential("<key>"), {
    retryOptions: { maxRetries: 5 },
    userAgentOptions: { userAgentPrefix: "myapp/1.0" },
  });
  const controller = new AbortController();
  const user = await client.createUser({ abortSignal: controller.signal, requestOptions: { timeout: 5000 } });
  await client.deleteUser(user, { requestOptions: { customHeaders: { "x-custom": "1" } } });
}
