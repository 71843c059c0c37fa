// Catch2's main for the integration tests, with --engine sqlite|postgres: the store engine every daemon and command
// of the run uses (test_engine.hpp). On PostgreSQL the tests tagged [sqlite_only] (about SQLite's files or the data
// directory, with no PostgreSQL meaning) are left out.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>
#include <string>

#include "tests/support/test_engine.hpp"

int main(int argc, char* argv[])
{
    Catch::Session session;
    std::string engine = "sqlite";
    auto cli = session.cli() |
               Catch::clara::Opt(engine, "sqlite|postgres")["--engine"](
                   "the store engine the daemons run on (postgres: a fresh database per data directory)");
    session.cli(cli);
    if (int rc = session.applyCommandLine(argc, argv); rc != 0)
        return rc;
    if (engine == "postgres") {
        profiled::test::select_engine(profiled::test::postgres);
        // A separate spec is ANDed with the ones given: whichever tests they pick, less the SQLite-only ones.
        Catch::ConfigData data = session.configData();
        data.testsOrTags.push_back("~[sqlite_only]");
        session.useConfigData(data);
    } else if (engine != "sqlite") {
        std::cerr << "--engine must be sqlite or postgres, not " << engine << "\n";
        return 2;
    }
    return session.run();
}
