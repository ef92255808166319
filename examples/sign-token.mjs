// Prints a notifyd token (HS256) for the user of your app whose id is the
// first argument, with Node's own crypto: what your backend does when a page
// asks for one. The secret is one of notifyd's auth.jwt.hmac_secrets.
//
//   NOTIFYD_JWT_SECRET=... node examples/sign-token.mjs user-42
import { createHmac } from 'node:crypto';

export function signToken(userId, secret, ttlSeconds = 15 * 60) {
  const part = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: userId, iat: now, exp: now + ttlSeconds })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

console.log(signToken(process.argv[2], process.env.NOTIFYD_JWT_SECRET));
