/**
 * Jest resolver: inside this repository, the package's own name means its TypeScript sources
 * (`pulumi-kairos` -> lib.ts, `pulumi-kairos/testing` -> testing/index.ts, `pulumi-kairos/drivers/<family>` -> providers/<family>/impl.ts), which
 * ts-jest compiles. Anywhere else (a program folder with the packed package installed, as the
 * as-installed tests make) names resolve as Node resolves them, to the installed copy.
 */
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const inRepo = (dir) => {
  const rel = path.relative(ROOT, dir);
  return !rel.startsWith("..") && !path.isAbsolute(rel) && !rel.split(path.sep).includes("node_modules");
};

module.exports = (request, options) => {
  if (inRepo(options.basedir)) {
    if (request === "pulumi-kairos") return path.join(ROOT, "lib.ts");
    if (request === "pulumi-kairos/testing") return path.join(ROOT, "testing", "index.ts");
    const m = /^pulumi-kairos\/drivers\/([a-z]+)$/.exec(request);
    if (m) return path.join(ROOT, "providers", m[1], "impl.ts");
  }
  return options.defaultResolver(request, options);
};
