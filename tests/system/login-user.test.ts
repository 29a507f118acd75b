/** Who `lbctl backend` says it is: the login uid's name (kept through sudo), SUDO_USER, the process user last. */

import { expect, test } from "bun:test";
import { loginActor, type LoginSources } from "../../src/system/login-user.ts";

const PASSWD = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n";
const sources = (patch: Partial<LoginSources>): LoginSources => ({ readLoginUid: () => undefined, passwd: () => PASSWD, env: {}, uid: () => 0, ...patch });

test("sudo from alice's session: the login uid names alice, SUDO_USER is recorded beside it", () => {
  expect(loginActor(sources({ readLoginUid: () => "1000\n", env: { SUDO_USER: "alice" } }))).toEqual({ user: "alice", login_uid: 1000, sudo_user: "alice" });
});

test("a login uid without a passwd entry is named by number", () => {
  expect(loginActor(sources({ readLoginUid: () => "4242" }))).toEqual({ user: "uid 4242", login_uid: 4242 });
});

test("no login session (unset uid): SUDO_USER, else the process's own user", () => {
  expect(loginActor(sources({ readLoginUid: () => "4294967295", env: { SUDO_USER: "bob" } }))).toEqual({ user: "bob", sudo_user: "bob" });
  expect(loginActor(sources({ readLoginUid: () => "4294967295" }))).toEqual({ user: "root" });
  expect(loginActor(sources({ uid: () => 77 }))).toEqual({ user: "uid 77" });
});
