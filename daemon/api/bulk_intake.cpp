#include "daemon/api/bulk_intake.hpp"

#include <filesystem>
#include <stdexcept>

#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "common/formats/bulk_json_reader.hpp"
#include "common/formats/multipart_parser.hpp"
#include "common/formats/ndjson_reader.hpp"
#include "common/formats/spool_file.hpp"
#include "common/ops/clock.hpp"
#include "common/ops/log.hpp"
#include "common/ops/metrics.hpp"
#include "common/ops/project_names.hpp"
#include "common/profiles/ids.hpp"
#include "common/profiles/profile_json.hpp"
#include "common/sha256.hpp"
#include "common/store/store_error.hpp"
#include "daemon/api/store_failures.hpp"
#include "daemon/jobs/job_runner.hpp"
#include "daemon/serve/server_context.hpp"
#include "daemon/serve/spool_thread.hpp"

namespace profiled {

namespace {

namespace json = boost::json;
namespace net = boost::asio;

// How the body of a bulk upload is framed.
enum class body_format { json_document, multipart_ndjson, raw_ndjson };

// Idempotency keys are remembered this long.
constexpr std::int64_t idempotency_window_ms = 24ll * 3600 * 1000;

// An upload refused because of a size or row limit.
api_error limit_exceeded(std::string code, std::string message)
{
    return {errc::payload_too_large, std::move(code), std::move(message), {}};
}

// The answer when an upload's spool file cannot be written: 507 when the disk is full, else a logged 500.
api_error spool_failure(const spool_error& e, const std::string& job_id)
{
    log_event(log_level::error, "intake.spool_failed", e.what(), {{"job_id", job_id}});
    if (e.disk_full())
        return {errc::insufficient_storage, "disk_full",
                "the server's disk is full; the upload was not accepted, retry later", {}};
    return internal_error();
}

// The answer when the database an upload is spooled into failed: what any request would hear.
api_error database_spool_failure(const store_error& e, const std::string& job_id)
{
    log_event(log_level::error, "intake.spool_failed", e.what(),
              {{"job_id", job_id}, {"failure", failure_name(e.kind())}});
    return api_error_for(e);
}

// The 422 for an Idempotency-Key that an earlier job holds for the other bulk route, or (same_route) for an
// upload with other content.
api_error idempotency_key_reused(const std::string& key, const job_record& earlier, bool same_route)
{
    std::string why = same_route ? std::string("whose upload had other content")
                                 : fmt::format("uploaded to POST /v1/{}/bulk_identify", to_string(earlier.type));
    return {errc::unprocessable, "idempotency_key_reused",
            fmt::format("Idempotency-Key {} already belongs to job {}, {}; a new upload needs a new key", key,
                        earlier.job_id, why),
            "Idempotency-Key"};
}

// The answer to an upload whose Idempotency-Key an earlier job holds: that job again (200, Idempotent-Replayed)
// when the route and the upload are the same, else a 422.
http_response answer_repeat(const std::string& key, const idempotent_job& earlier, job_type type,
                            const std::string& upload_sha256)
{
    if (earlier.job.type != type)
        return error_response(idempotency_key_reused(key, earlier.job, false));
    if (earlier.upload_sha256 != upload_sha256)
        return error_response(idempotency_key_reused(key, earlier.job, true));
    http_response replay = json_response(200, job_to_json(earlier.job));
    replay.headers.emplace_back("Idempotent-Replayed", "true");
    return replay;
}

// A 401 when the upload's key, as the store has it now (current), was revoked (or removed) while its body was
// being received.
std::optional<api_error> key_revoked_since(const std::optional<api_key_record>& current)
{
    if (current && !current->revoked_at)
        return std::nullopt;
    return api_error{errc::unauthorized, "unauthorized",
                     "this API key was revoked while the upload was being received; nothing was accepted", {}};
}

// The lower-case media type of a Content-Type value, without parameters.
std::string media_type(std::string_view content_type)
{
    std::string type(content_type.substr(0, content_type.find(';')));
    while (!type.empty() && type.back() == ' ')
        type.pop_back();
    for (auto& c : type)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return type;
}

// Streams one bulk upload into the spool, counting rows and enforcing the limits as bytes arrive.
class bulk_upload final : public upload_sink {
public:
    bulk_upload(server_context& ctx, job_runner& runner, api_key_record key, job_record job, body_format format,
                std::string boundary)
        : ctx_(ctx), runner_(runner), key_(std::move(key)), job_(std::move(job)), format_(format),
          spool_(ctx.spool.begin_upload(job_.job_id)),
          lines_([this](std::string_view line, std::uint64_t number) { add_line(line, number); })
    {
        if (format_ == body_format::json_document)
            document_.emplace(to_string(job_.type), [this](std::string_view row) { add_line(row, rows_ + 1); });
        if (format_ == body_format::multipart_ndjson)
            multipart_.emplace(std::move(boundary), "file", [this](std::string_view data) {
                file_bytes_ += data.size();
                upload_digest_.update(data);
                lines_.feed(data);
            });
    }

    std::optional<api_error> write(std::string_view chunk) override
    {
        try {
            received_ += chunk.size();
            // The file part of a multipart body is hashed by itself (above): clients pick a fresh boundary for
            // every request, so a retry of the same file differs from the first upload in its framing only.
            if (!multipart_)
                upload_digest_.update(chunk);
            switch (format_) {
            case body_format::json_document: document_->feed(chunk); break;
            case body_format::multipart_ndjson: multipart_->feed(chunk); break;
            case body_format::raw_ndjson: lines_.feed(chunk); break;
            }
            return check();
        } catch (const spool_error& e) {
            return spool_failure(e, job_.job_id);
        } catch (const store_error& e) {
            return database_spool_failure(e, job_.job_id);
        }
    }

    net::awaitable<http_response> finish() override
    {
        if (auto refused = co_await recheck())
            co_return error_response(*refused);
        auto sealing = on_spool_thread(ctx_.spooler, [this] { return seal(); });
        if (auto refused = co_await std::move(sealing))
            co_return error_response(*refused);
        job_.file_size = static_cast<std::int64_t>(file_size());
        job_.total_rows = rows_;
        if (multipart_)
            job_.filename = multipart_->filename();
        job_.submitted_at = now_ms();
        co_return co_await queue();
    }

private:
    // A refusal that came up while the body streamed in: the key revoked meanwhile.
    net::awaitable<std::optional<api_error>> recheck()
    {
        try {
            // A key revoked while the body streamed in takes nothing with it; a job it already has keeps running.
            auto lookup = ctx_.reads.run([hash = key_.key_hash](store_reader& r) { return r.find_key(hash); });
            auto current = co_await std::move(lookup);
            co_return key_revoked_since(current);
        } catch (const api_exception& e) {
            // The store did not answer in time: nothing is accepted.
            co_return e.error();
        } catch (const store_error& e) {
            // The key lookup failed: nothing is accepted, and the client hears what any request would.
            log_event(log_level::error, "intake.failed", e.what(),
                      {{"job_id", job_.job_id}, {"failure", failure_name(e.kind())}});
            co_return api_error_for(e);
        } catch (const std::exception& e) {
            // The key lookup failed (a bug): nothing is accepted, the session goes on.
            log_event(log_level::error, "intake.failed", e.what(), {{"job_id", job_.job_id}});
            co_return internal_error();
        }
    }

    // On the spool thread, once the body is complete: the last limits and format checks, then the spool made
    // durable but for the last piece the job's insert commits (a spool in the database); or the refusal, with what
    // was spooled gone.
    std::optional<api_error> seal()
    {
        std::optional<api_error> refused;
        try {
            switch (format_) {
            case body_format::json_document: document_->finish(); break;
            case body_format::multipart_ndjson:
                multipart_->finish();
                lines_.finish();
                break;
            case body_format::raw_ndjson: lines_.finish(); break;
            }
            // Said plainly, rather than as the JSON parser's "incomplete JSON".
            if (received_ == 0)
                refused = bad_body("empty_upload", "the upload is empty: it holds no rows");
            else
                refused = check();
            if (!refused && rows_ == 0)
                refused = bad_body("empty_upload", "the upload holds no rows");
            if (!refused)
                last_piece_ = spool_->seal();
        } catch (const spool_error& e) {
            refused = spool_failure(e, job_.job_id);
        } catch (const store_error& e) {
            refused = database_spool_failure(e, job_.job_id);
        } catch (const std::exception& e) {
            // Anything else that broke: nothing is accepted, the session goes on.
            log_event(log_level::error, "intake.failed", e.what(), {{"job_id", job_.job_id}});
            refused = internal_error();
        }
        if (refused)
            spool_->discard();
        return refused;
    }

    // Records the job as queued in the writer; 202 once committed. When another job holds the Idempotency-Key (a
    // repeat, or a twin upload that finished first), the insert says so and this upload goes: the answer is that
    // job again or a 422.
    net::awaitable<http_response> queue()
    {
        auto job = std::make_shared<job_record>(job_);
        auto digest = std::make_shared<const std::string>(upload_digest_.finish_hex());
        std::vector<store_operation> insert;
        insert.push_back(insert_job{*job, *digest, job->submitted_at - idempotency_window_ms, std::move(last_piece_)});
        last_piece_.reset();
        auto write = written_outcomes(ctx_, std::move(insert));
        auto result = co_await std::move(write);
        std::optional<api_error> error = std::move(result.failure);
        std::optional<idempotent_job> earlier;
        if (!error)
            error = std::move(result.outcomes.front().refused);
        if (!error)
            earlier = std::move(result.outcomes.front().earlier_job);
        if (error || earlier) {
            auto discarding = on_spool_thread(ctx_.spooler, [spool = spool_] {
                spool->discard();
                return true;
            });
            co_await std::move(discarding);
        }
        if (error)
            co_return error_response(*error);
        if (earlier)
            co_return answer_repeat(*job->idempotency_key, *earlier, job->type, *digest);
        log_event(log_level::info, "job.queued", "bulk job queued",
                  {{"job_id", job->job_id},
                   {"project_id", job->project_id},
                   {"project", known_projects().name_of(job->project_id)},
                   {"type", to_string(job->type)},
                   {"rows", job->total_rows},
                   {"bytes", job->file_size}});
        daemon_metrics().add("profiled_upload_bytes_total", {}, static_cast<double>(job->file_size));
        daemon_metrics().add("profiled_jobs_total", metric_labels({{"status", "queued"}}));
        runner_.add_job(*job);
        co_return json_response(202, job_to_json(*job));
    }

    // One row (a JSON document element or an NDJSON line) into the spool, keeping upload line numbers.
    void add_line(std::string_view line, std::uint64_t number)
    {
        ++rows_;
        // Blank lines are kept (as empty lines) so row errors can name the line of the client's file.
        while (lines_written_ + 1 < number) {
            spool_->append("\n");
            ++lines_written_;
        }
        spool_->append(line);
        spool_->append("\n");
        ++lines_written_;
    }

    // The size of the file as the client sent it, the multipart file part or else the whole body (the spool
    // copy differs: a JSON document is rewritten as rows, CRs and blank lines go).
    std::uint64_t file_size() const { return multipart_ ? file_bytes_ : received_; }

    // The first limit or format error so far.
    std::optional<api_error> check()
    {
        const auto& s = ctx_.settings;
        if (static_cast<std::uint64_t>(rows_) > s.max_job_rows)
            return limit_exceeded("too_many_rows", fmt::format("the upload has more than {} rows, the limit per job "
                                                               "(--max-job-rows); split it into several jobs",
                                                               s.max_job_rows));
        // The multipart framing around the file is allowed a little slack on top.
        if (file_size() > s.max_upload_bytes || received_ > s.max_upload_bytes + 64 * 1024)
            return limit_exceeded("upload_too_large", fmt::format("the upload exceeds the limit of {} bytes "
                                                                  "(--max-upload-bytes)",
                                                                  s.max_upload_bytes));
        if (document_ && document_->error()) {
            const auto& e = *document_->error();
            return bad_body(e.code, e.message);
        }
        if (multipart_ && multipart_->error()) {
            const auto& e = *multipart_->error();
            return bad_body(e.code, e.message);
        }
        if (lines_.error()) {
            const auto& e = *lines_.error();
            return bad_body(e.code, e.message);
        }
        return std::nullopt;
    }

    server_context& ctx_;
    job_runner& runner_;
    api_key_record key_; // the key the upload was admitted with, checked again when the body is complete
    job_record job_;
    body_format format_;
    std::shared_ptr<upload_spool_writer> spool_;
    std::optional<upload_piece> last_piece_; // what the job's insert commits with it (a spool in the database)
    ndjson_line_splitter lines_;
    std::optional<bulk_json_reader> document_;
    std::optional<multipart_parser> multipart_;
    std::int64_t rows_ = 0;
    std::uint64_t lines_written_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t file_bytes_ = 0; // content of the multipart file part
    sha256_hasher upload_digest_;  // of the file as the client sent it: the body, or the multipart file part
};

// Starts a bulk upload of the given type: checks headers, refuses a key of the other route, opens the spool file.
net::awaitable<upload_start> start_bulk_upload(server_context& ctx, job_runner& runner, request_context& rc,
                                               job_type type)
{
    const http_request& req = rc.request;
    std::string content_type(req.header("content-type"));
    std::string media = media_type(content_type);
    body_format format;
    std::string boundary;
    if (media.empty() || media == "application/json") {
        format = body_format::json_document;
    } else if (media == "multipart/form-data") {
        auto b = multipart_boundary(content_type);
        if (!b)
            co_return upload_start{nullptr, error_response(bad_body("malformed_multipart",
                                                     "multipart/form-data needs a boundary parameter"))};
        format = body_format::multipart_ndjson;
        boundary = *b;
    } else if (media == "application/x-ndjson" || media == "application/jsonl") {
        format = body_format::raw_ndjson;
    } else {
        co_return upload_start{nullptr,
                error_response({errc::unsupported_media_type, "unsupported_media_type",
                                fmt::format("Content-Type must be application/json (a {{\"{}\":[...]}} document) or "
                                            "multipart/form-data with an NDJSON part named file, not {}",
                                            to_string(type), content_type),
                                {}})};
    }

    job_record job;
    job.job_id = new_job_id();
    job.project_id = rc.key->project_id;
    job.type = type;
    job.status = job_status::queued;
    std::string_view idempotency_key = req.header("idempotency-key");
    std::optional<job_record> earlier;
    if (!idempotency_key.empty()) {
        if (idempotency_key.size() > 255)
            co_return upload_start{nullptr, error_response(invalid_field("Idempotency-Key", "Idempotency-Key is longer than 255 "
                                                                             "characters"))};
        job.idempotency_key = std::string(idempotency_key);
        // A key used on the other bulk route is refused before the body is read. For this route the body
        // decides, so it is read in full; the job's insert has the final word.
        auto lookup = ctx.reads.run([project = job.project_id, key = *job.idempotency_key,
                                     not_before = now_ms() - idempotency_window_ms](store_reader& r) {
            return r.find_job_by_idempotency_key(project, key, not_before);
        });
        earlier = co_await std::move(lookup);
        if (earlier && earlier->type != type)
            co_return upload_start{nullptr, error_response(idempotency_key_reused(*job.idempotency_key, *earlier, false))};
    }
    // A repeat of a key in use makes no job, so a full queue is no reason to refuse the client's retry.
    if (!earlier && runner.queued_jobs(job.project_id) >= ctx.settings.max_queued_jobs) {
        http_response busy = error_response({errc::rate_limited, "too_many_queued_jobs",
                                             fmt::format("this project already has {} queued jobs (--max-queued-jobs); "
                                                         "wait for some to finish",
                                                         ctx.settings.max_queued_jobs),
                                             {}});
        // A job takes a while; a minute is a fair first wait before polling the queue again.
        busy.headers.emplace_back("Retry-After", "60");
        co_return upload_start{nullptr, std::move(busy)};
    }
    std::string job_id = job.job_id;
    try {
        co_return upload_start{
            std::make_unique<bulk_upload>(ctx, runner, *rc.key, std::move(job), format, std::move(boundary)),
            std::nullopt};
    } catch (const spool_error& e) {
        // The part file could not even be created (no space or inodes left, spool dir missing).
        co_return upload_start{nullptr, error_response(spool_failure(e, job_id))};
    }
}

} // namespace

// POST /v1/users/bulk_identify and POST /v1/companies/bulk_identify.
void add_bulk_routes(router& routes, server_context& ctx, job_runner& runner)
{
    route_options upload{.auth = auth_rule::secret_key, .rate = rate_class::bulk};
    routes.add_upload("POST", "/v1/users/bulk_identify", upload, [&ctx, &runner](request_context& rc) {
        return start_bulk_upload(ctx, runner, rc, job_type::users);
    });
    routes.add_upload("POST", "/v1/companies/bulk_identify", upload, [&ctx, &runner](request_context& rc) {
        return start_bulk_upload(ctx, runner, rc, job_type::companies);
    });
}

} // namespace profiled
