/** L0: the registry login command line and the environment that keeps its credentials in a folder of ours. */
import { engineAuthEnv, engineLoginArgv, registryOf } from "../../../kairos/image";

describe("registry login", () => {
  test("the password goes on stdin, never in argv", () => {
    expect(engineLoginArgv("/usr/bin/podman", "registry.example.test", "bot")).toEqual(
      ["/usr/bin/podman", "login", "--username", "bot", "--password-stdin", "registry.example.test"]);
  });

  test.each<["docker" | "podman", Record<string, string>]>([
    ["docker", { DOCKER_CONFIG: "/tmp/kairos-registry-auth-x" }],
    ["podman", { REGISTRY_AUTH_FILE: "/tmp/kairos-registry-auth-x/auth.json" }],
  ])("%s keeps its login in the given folder, not in the user's config", (engine, env) => {
    expect(engineAuthEnv(engine, "/tmp/kairos-registry-auth-x")).toEqual(env);
  });

  test.each([
    ["registry.example.test/team/kairos", "registry.example.test"],
    ["localhost:5000/kairos", "localhost:5000"],
    ["team/kairos", "docker.io"],
    ["kairos", "docker.io"],
  ])("the registry of %s is %s", (repository, registry) => {
    expect(registryOf(repository)).toBe(registry);
  });
});
