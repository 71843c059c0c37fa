// The writer's deadlines: a submission not started in time is refused without running; one started is waited for.
// Its durability: a submission is answered only once synced, and the next group commits while the last one syncs.
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "common/store/open_store.hpp"
#include "daemon/serve/writer.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace profiled;
using namespace std::chrono_literals;

namespace {

// A real store whose writer calls a hook before each batch and one before each sync, so that a test can hold the
// writer inside a group or a sync.
class hooked_store : public store {
public:
    using hook = std::function<void()>;
    hooked_store(std::unique_ptr<store> real, hook before_batch, hook before_sync = [] {})
        : real_(std::move(real)), before_batch_(std::move(before_batch)), before_sync_(std::move(before_sync))
    {
    }
    std::unique_ptr<store_reader> open_reader() override { return real_->open_reader(); }
    std::unique_ptr<profile_snapshot> open_snapshot(std::int64_t project_id,
                                                    std::optional<std::int64_t> updated_since) override
    {
        return real_->open_snapshot(project_id, updated_since);
    }
    std::unique_ptr<store_writer> open_writer(commit_durability durability = commit_durability::at_commit) override
    {
        return std::make_unique<hooked_writer>(real_->open_writer(durability), before_batch_, before_sync_);
    }

private:
    class hooked_writer : public store_writer {
    public:
        hooked_writer(std::unique_ptr<store_writer> real, hook h, hook s)
            : real_(std::move(real)), hook_(std::move(h)), sync_hook_(std::move(s))
        {
        }
        std::vector<operation_outcome> apply(const std::vector<store_operation>& ops,
                                             const std::vector<std::size_t>& unit_ends) override
        {
            hook_();
            return real_->apply(ops, unit_ends);
        }
        void make_durable() override
        {
            sync_hook_();
            real_->make_durable();
        }
        std::int64_t ensure_project(const std::string& name, std::int64_t now) override
        {
            return real_->ensure_project(name, now);
        }
        void insert_key(const api_key_record& key) override { real_->insert_key(key); }
        int revoke_keys(const std::string& prefix, std::int64_t now) override
        {
            return real_->revoke_keys(prefix, now);
        }

    private:
        std::unique_ptr<store_writer> real_;
        hook hook_;
        hook sync_hook_;
    };
    std::unique_ptr<store> real_;
    hook before_batch_;
    hook before_sync_;
};

// A completion that hands the outcome to a future.
struct outcome_promise {
    std::shared_ptr<std::promise<std::optional<api_error>>> promise =
        std::make_shared<std::promise<std::optional<api_error>>>();
    std::future<std::optional<api_error>> future = promise->get_future();
    writer::completion completion()
    {
        return [p = promise](std::optional<api_error> e) { p->set_value(std::move(e)); };
    }
};

// One user upsert as a submission of its own.
std::vector<store_operation> upsert(std::int64_t project, const std::string& user_id)
{
    user_upsert row;
    row.user_id = user_id;
    std::vector<store_operation> ops;
    ops.push_back(upsert_users{project, {row}, 1000});
    return ops;
}

} // namespace

TEST_CASE("a write whose deadline passed before the writer took it is refused without running", "[writer]")
{
    test::scratch_dir dir;
    std::promise<void> started, gate;
    auto gate_open = gate.get_future().share();
    int batches = 0;
    // The first batch holds the writer (its group) until the gate opens.
    hooked_store db(open_store(dir.path()), [&] {
        if (batches++ == 0) {
            started.set_value();
            gate_open.wait();
        }
    });
    std::int64_t project = db.open_writer()->ensure_project("default", 1);
    writer w(db);

    outcome_promise first, late, patient;
    w.submit(upsert(project, "first"), first.completion());
    started.get_future().wait();
    w.submit(upsert(project, "late"), late.completion(), std::chrono::steady_clock::now() + 20ms);
    w.submit(upsert(project, "patient"), patient.completion());
    std::this_thread::sleep_for(100ms);
    gate.set_value();

    CHECK_FALSE(first.future.get().has_value());
    auto refused = late.future.get();
    REQUIRE(refused.has_value());
    CHECK(refused->code == "store_timeout");
    CHECK(refused->kind == errc::timed_out);
    CHECK(refused->message.find("--request-timeout") != std::string::npos);
    // Without a deadline, the same wait is no reason to refuse.
    CHECK_FALSE(patient.future.get().has_value());
    w.stop();

    auto reader = db.open_reader();
    CHECK(reader->find_user(project, "first"));
    CHECK_FALSE(reader->find_user(project, "late")); // refused means not applied
    CHECK(reader->find_user(project, "patient"));
}

TEST_CASE("a write already taken into a group is committed however far past its deadline", "[writer]")
{
    test::scratch_dir dir;
    // Well past the deadline, which is generous so that the writer surely takes the item before it.
    hooked_store db(open_store(dir.path()), [] { std::this_thread::sleep_for(600ms); });
    std::int64_t project = db.open_writer()->ensure_project("default", 1);
    writer w(db);

    outcome_promise slow;
    w.submit(upsert(project, "slow"), slow.completion(), std::chrono::steady_clock::now() + 300ms);
    CHECK_FALSE(slow.future.get().has_value());
    w.stop();
    CHECK(db.open_reader()->find_user(project, "slow"));
}

TEST_CASE("a write is answered once synced, and the next group commits while the last one syncs", "[writer]")
{
    test::scratch_dir dir;
    std::promise<void> syncing, gate;
    auto gate_open = gate.get_future().share();
    std::atomic<int> syncs = 0;
    // The first sync waits for the gate: the first write is committed, not yet durable.
    hooked_store db(open_store(dir.path()), [] {}, [&] {
        if (syncs++ == 0) {
            syncing.set_value();
            gate_open.wait();
        }
    });
    std::int64_t project = db.open_writer()->ensure_project("default", 1);
    writer w(db);

    outcome_promise first, second;
    w.submit(upsert(project, "first"), first.completion());
    syncing.get_future().wait();
    w.submit(upsert(project, "second"), second.completion());
    // The second group commits behind the held sync: a reader sees it, while neither write has been answered.
    auto reader = db.open_reader();
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!reader->find_user(project, "second") && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(1ms);
    CHECK(reader->find_user(project, "second"));
    CHECK(first.future.wait_for(50ms) == std::future_status::timeout);
    CHECK(second.future.wait_for(0ms) == std::future_status::timeout);

    gate.set_value();
    CHECK_FALSE(first.future.get().has_value());
    CHECK_FALSE(second.future.get().has_value());
    CHECK(syncs >= 2);
    w.stop();
}
