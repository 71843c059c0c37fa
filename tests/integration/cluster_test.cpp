// Three daemons on one PostgreSQL database under a mixed load through all three (identify, People $add, multipart
// uploads of users and companies with some bad rows) while random daemons are killed with SIGKILL and started again,
// ten times. Afterwards every job is done with exact counts and row errors, every acknowledged $add is counted
// exactly once, and every acknowledged identify is there.
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/bulk_jobs.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/test_daemon.hpp"

using namespace profiled::test;
using namespace std::chrono_literals;

namespace {

constexpr int daemon_count = 3;
constexpr int kills = 10;

// How a request ended: answered 200/202, answered otherwise, cut off by a kill (it may have landed), or never sent.
enum class sent { acked, refused, unknown, not_sent };

struct answer {
    sent state = sent::not_sent;
    http_reply reply;
};

// The daemons' ports as the load sees them: 0 while a daemon is down.
using port_table = std::array<std::atomic<int>, daemon_count>;

// One request on a fresh connection to the port.
answer send_to(int port, const std::string& method, const std::string& target, const std::string& body,
               const header_list& headers)
{
    if (port == 0)
        return {};
    std::unique_ptr<http_connection> c;
    try {
        c = std::make_unique<http_connection>(port);
    } catch (const std::exception&) {
        return {};
    }
    answer a;
    try {
        a.reply = c->request(method, target, body, headers);
    } catch (const std::exception&) {
        a.state = sent::unknown;
        return a;
    }
    if (a.reply.status == 0)
        a.state = sent::unknown;
    else if (a.reply.status == 200 || a.reply.status == 202)
        a.state = sent::acked;
    else
        a.state = sent::refused;
    return a;
}

// One thread of load: its own ids, one request at a time, each to a daemon picked at random among those up.
class load_thread {
public:
    load_thread(const port_table& ports, std::string key, unsigned seed)
        : ports_(ports), key_(std::move(key)), rng_(seed)
    {
    }
    virtual ~load_thread() = default;

    // Runs step() until stop is set.
    void run(const std::atomic<bool>& stop)
    {
        while (!stop) {
            step();
            ++steps;
        }
    }

    int steps = 0;
    std::vector<std::string> unexpected; // answers other than success or a daemon going away

protected:
    virtual void step() = 0;

    // Sends the request to a daemon that is up (waiting while none is).
    answer send(const std::string& method, const std::string& target, const std::string& body, header_list headers)
    {
        for (;;) {
            int port = ports_[std::uniform_int_distribution<int>(0, daemon_count - 1)(rng_)].load();
            answer a = send_to(port, method, target, body, headers);
            if (a.state == sent::not_sent) {
                std::this_thread::sleep_for(5ms);
                continue;
            }
            // A daemon going down answers 503 to what it will not finish: not applied, like a refusal.
            if (a.state == sent::refused && a.reply.status != 503)
                unexpected.push_back(method + " " + target + ": " + std::to_string(a.reply.status) + " " +
                                     a.reply.body.substr(0, 200));
            return a;
        }
    }

    const port_table& ports_;
    std::string key_;
    std::mt19937 rng_;
};

// POST /v1/identify of metadata.seq on a few user ids.
class identify_load final : public load_thread {
public:
    identify_load(int index, const port_table& ports, const std::string& key)
        : load_thread(ports, key, 100 + index), prefix_("ci" + std::to_string(index) + "-")
    {
    }

    struct history {
        std::int64_t last_acked = 0;
        std::vector<std::int64_t> unknown; // cut off after the last acknowledged one
    };
    std::map<std::string, history> ids;

private:
    void step() override
    {
        std::string id = prefix_ + std::to_string(std::uniform_int_distribution<int>(0, 9)(rng_));
        std::int64_t seq = ++seq_;
        auto a = send("POST", "/v1/identify",
                      R"({"user_id":")" + id + R"(","metadata":{"seq":)" + std::to_string(seq) + "}}",
                      {{"Authorization", "Token " + key_},
                       {"X-API-Version", "2020-09-22"},
                       {"Content-Type", "application/json"}});
        auto& h = ids[id];
        if (a.state == sent::acked) {
            h.last_acked = seq;
            h.unknown.clear();
        } else if (a.state == sent::unknown) {
            h.unknown.push_back(seq);
        }
    }

    std::string prefix_;
    std::int64_t seq_ = 0;
};

// POST /public/people/set {"$add": {"counter": 1}} on a few ids.
class counter_load final : public load_thread {
public:
    counter_load(int index, const port_table& ports, const std::string& key)
        : load_thread(ports, key, 200 + index), prefix_("cc" + std::to_string(index) + "-")
    {
    }

    struct tally {
        std::int64_t acked = 0;
        std::int64_t unknown = 0;
    };
    std::map<std::string, tally> ids;

private:
    void step() override
    {
        std::string id = prefix_ + std::to_string(std::uniform_int_distribution<int>(0, 3)(rng_));
        auto a = send("POST", "/public/people/set",
                      R"({"apiKey":")" + key_ + R"(","distinct_id":")" + id +
                          R"(","operations":{"$add":{"counter":1}}})",
                      {{"Content-Type", "application/json"}});
        if (a.state == sent::acked && a.reply.body.find(R"("status":1)") == std::string::npos) {
            unexpected.push_back("people/set: " + a.reply.body);
            a.state = sent::unknown;
        }
        if (a.state == sent::acked)
            ++ids[id].acked;
        else if (a.state == sent::unknown)
            ++ids[id].unknown;
    }

    std::string prefix_;
};

// Multipart NDJSON uploads of users or companies, each row an id of its own, a few rows invalid.
class bulk_load final : public load_thread {
public:
    bulk_load(std::string type, int index, const port_table& ports, const std::string& key)
        : load_thread(ports, key, 300 + index), type_(std::move(type)),
          prefix_((type_ == "users" ? "bu" : "bc") + std::to_string(index) + "-")
    {
    }

    struct upload {
        int seq = 0;
        int valid = 0;
        int invalid = 0;
        sent state = sent::not_sent;
        std::string job_id; // from the 202
    };
    std::map<std::string, upload> by_filename;
    const std::string& type() const { return type_; }
    // The id of a valid row of an upload.
    std::string row_id(int seq, int row) const { return prefix_ + std::to_string(seq) + "-" + std::to_string(row); }

private:
    void step() override
    {
        upload u;
        u.seq = ++seq_;
        // Every sixth upload is large enough (about 1.6 MB) to be spooled in two pieces.
        bool large = u.seq % 6 == 0;
        u.valid = large ? 3000 : std::uniform_int_distribution<int>(1, 250)(rng_);
        std::string pad(large ? 500 : 200, 'x');
        u.invalid = std::uniform_int_distribution<int>(0, 3)(rng_);
        const char* id_field = type_ == "users" ? "user_id" : "company_id";
        std::vector<std::string> lines;
        for (int i = 0; i < u.valid; ++i)
            lines.push_back(std::string(R"({")") + id_field + R"(":")" + row_id(u.seq, i) + R"(","metadata":{"seq":)" +
                            std::to_string(u.seq) + R"(,"pad":")" + pad + "\"}}");
        for (int i = 0; i < u.invalid; ++i) {
            auto at = std::uniform_int_distribution<std::size_t>(0, lines.size())(rng_);
            lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at),
                         std::string(R"({")") + id_field + R"(":")" + prefix_ + R"(bad","metadata":{"bad":[1]}})");
        }
        std::string ndjson;
        for (const auto& l : lines)
            ndjson += l + "\n";
        std::string filename = prefix_ + std::to_string(u.seq) + ".ndjson";
        header_list headers = multipart_headers();
        headers.emplace_back("Authorization", "Token " + key_);
        auto a = send("POST", "/v1/" + type_ + "/bulk_identify", multipart_body(ndjson, filename), headers);
        u.state = a.state;
        if (a.state == sent::acked)
            u.job_id = string_field(a.reply.json().as_object(), "job_id");
        by_filename[filename] = u;
    }

    std::string type_;
    std::string prefix_;
    int seq_ = 0;
};

// Every item of a cursor-paged list on the daemon.
std::vector<boost::json::object> all_pages(const test_daemon& d, const std::string& path, const char* field)
{
    std::vector<boost::json::object> out;
    std::string cursor;
    for (;;) {
        std::string sep = path.find('?') == std::string::npos ? "?" : "&";
        auto r = d.call("GET", path + (cursor.empty() ? "" : sep + "cursor=" + cursor));
        REQUIRE(r.status == 200);
        auto body = r.json().as_object();
        for (const auto& item : body.at(field).as_array())
            out.push_back(item.as_object());
        cursor = string_field(body, "next_cursor");
        if (cursor.empty())
            return out;
    }
}

// A profile's property, or null when the profile or the property is missing.
boost::json::value property_of(const test_daemon& d, const std::string& path, const char* name)
{
    auto r = d.call("GET", path);
    if (r.status != 200)
        return nullptr;
    auto profile = r.json();
    const auto& properties = profile.as_object().at("properties").as_object();
    auto it = properties.find(name);
    return it == properties.end() ? boost::json::value(nullptr) : it->value();
}

} // namespace

TEST_CASE("three daemons on one database under mixed load lose nothing and apply nothing twice across ten kills",
          "[integration][database][cluster]")
{
    std::string url = fresh_postgres_url();
    daemon_options options;
    options.database = url;
    std::vector<std::unique_ptr<test_daemon>> daemons;
    port_table ports;
    for (int i = 0; i < daemon_count; ++i) {
        daemons.push_back(std::make_unique<test_daemon>(
            std::vector<std::string>{"--rows-per-minute", "0", "--max-queued-jobs", "1000", "--job-lease", "2"},
            options));
        ports[i] = daemons.back()->port();
    }
    // Every daemon's keys are the project's, in the one database: any of them works on any daemon.
    const std::string key = daemons.front()->secret_key();

    std::vector<std::unique_ptr<identify_load>> identifies;
    std::vector<std::unique_ptr<counter_load>> counters;
    std::vector<std::unique_ptr<bulk_load>> bulks;
    for (int i = 0; i < 2; ++i) {
        identifies.push_back(std::make_unique<identify_load>(i, ports, key));
        counters.push_back(std::make_unique<counter_load>(i, ports, key));
    }
    bulks.push_back(std::make_unique<bulk_load>("users", 0, ports, key));
    bulks.push_back(std::make_unique<bulk_load>("users", 1, ports, key));
    bulks.push_back(std::make_unique<bulk_load>("companies", 0, ports, key));
    std::vector<load_thread*> loads;
    for (auto& l : identifies)
        loads.push_back(l.get());
    for (auto& l : counters)
        loads.push_back(l.get());
    for (auto& l : bulks)
        loads.push_back(l.get());

    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (auto* l : loads)
        threads.emplace_back([l, &stop] { l->run(stop); });

    std::mt19937 rng(20261203);
    for (int k = 0; k < kills; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(800, 2200)(rng)));
        int victim = std::uniform_int_distribution<int>(0, daemon_count - 1)(rng);
        ports[victim] = 0;
        daemons[victim]->stop(9);
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 100)(rng)));
        daemons[victim]->start();
        ports[victim] = daemons[victim]->port();
    }
    std::this_thread::sleep_for(500ms);
    stop = true;
    for (auto& t : threads)
        t.join();

    const test_daemon& reads = *daemons.front();
    auto busy = [&] {
        return !all_pages(reads, "/v1/background_jobs?status=queued&limit=100", "jobs").empty() ||
               !all_pages(reads, "/v1/background_jobs?status=running&limit=100", "jobs").empty();
    };
    for (int i = 0; i < 300 && busy(); ++i)
        std::this_thread::sleep_for(100ms);
    REQUIRE_FALSE(busy());

    for (auto* l : loads) {
        CAPTURE(l->unexpected);
        CHECK(l->unexpected.empty());
    }

    // Jobs: each one an upload that was acknowledged or cut off, done with exact counts and exactly its row errors.
    auto jobs = all_pages(reads, "/v1/background_jobs?limit=100", "jobs");
    std::map<std::string, boost::json::object> jobs_by_filename;
    for (const auto& j : jobs)
        jobs_by_filename[string_field(j, "filename")] = j;
    int acked_jobs = 0, checked_rows = 0;
    for (auto& b : bulks) {
        for (const auto& [filename, u] : b->by_filename) {
            CAPTURE(filename);
            auto found = jobs_by_filename.find(filename);
            if (u.state == sent::acked) {
                ++acked_jobs;
                REQUIRE(found != jobs_by_filename.end());
                CHECK(string_field(found->second, "job_id") == u.job_id);
            }
            if (found == jobs_by_filename.end())
                continue;
            CHECK(u.state != sent::refused);
            const auto& j = found->second;
            CHECK(string_field(j, "status") == "done");
            CHECK(int_field(j, "total_rows") == u.valid + u.invalid);
            CHECK(int_field(j, "processed_rows") == u.valid + u.invalid);
            CHECK(int_field(j, "failed_rows") == u.invalid);
            if (u.invalid != 0) {
                auto errors = all_pages(reads, "/v1/background_jobs/" + string_field(j, "job_id") + "/errors?limit=100",
                                        "errors");
                CHECK(errors.size() == static_cast<std::size_t>(u.invalid));
            }
            // The first and last rows landed, with this upload's values.
            for (int row : {0, u.valid - 1}) {
                auto seq = property_of(reads, "/v1/" + b->type() + "/" + b->row_id(u.seq, row), "seq");
                CHECK(seq == boost::json::value(u.seq));
                ++checked_rows;
            }
        }
    }
    // And no job that is not one of these uploads.
    for (const auto& j : jobs) {
        std::string filename = string_field(j, "filename");
        CAPTURE(filename);
        bool known = false;
        for (auto& b : bulks)
            known = known || b->by_filename.count(filename) != 0;
        CHECK(known);
    }

    // Identify: the last acknowledged write, or a later one a kill cut off.
    int acked_identifies = 0;
    for (auto& l : identifies) {
        for (const auto& [id, h] : l->ids) {
            if (h.last_acked == 0 && h.unknown.empty())
                continue;
            CAPTURE(id, h.last_acked);
            auto seq = property_of(reads, "/v1/users/" + id, "seq");
            bool allowed = h.last_acked != 0 && seq == boost::json::value(h.last_acked);
            for (auto s : h.unknown)
                allowed = allowed || seq == boost::json::value(s);
            if (h.last_acked == 0)
                allowed = allowed || seq.is_null();
            CHECK(allowed);
            acked_identifies += h.last_acked != 0;
        }
    }

    // $add: every acknowledged increment exactly once, one cut off by a kill at most once.
    std::int64_t acked_adds = 0;
    for (auto& l : counters) {
        for (const auto& [id, t] : l->ids) {
            CAPTURE(id, t.acked, t.unknown);
            auto counter = property_of(reads, "/v1/users/" + id, "counter");
            std::int64_t have = counter.is_null() ? 0 : counter.to_number<std::int64_t>();
            CHECK(have >= t.acked);
            CHECK(have <= t.acked + t.unknown);
            acked_adds += t.acked;
        }
    }
    // The load did get through, kills and all.
    CHECK(acked_jobs >= 10);
    CHECK(acked_adds >= 50);
    CHECK(acked_identifies >= 5);
    WARN("cluster: " << acked_jobs << " jobs acknowledged, " << jobs.size() << " jobs, " << checked_rows
                     << " rows checked, " << acked_adds << " $add acknowledged, " << acked_identifies
                     << " identify ids");
}
