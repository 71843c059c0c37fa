#include "daemon/jobs/job_chunk.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include <boost/json/object.hpp>

#include "common/profiles/requests.hpp"
#include "common/store/store_error.hpp"

namespace profiled {

namespace json = boost::json;

namespace {

// A row parsed and validated, ready to apply, or the reason it cannot be.
struct parsed_row {
    std::optional<user_change> user;
    std::optional<company_change> company;
    std::optional<job_row_error> error;
};

// The id a row names, for its error entry, when it has one.
std::string row_id_of(const json::object& row, job_type type)
{
    const char* field = type == job_type::users ? "user_id" : "company_id";
    if (auto* v = row.if_contains(field); v && v->is_string())
        return std::string(v->get_string().subview(0, std::min<std::size_t>(v->get_string().size(), max_id_bytes)));
    return {};
}

// Parses and validates one spool row of a job of the given type.
parsed_row parse_row(const spool_row& row, job_type type)
{
    parsed_row out;
    auto body = parse_json_object(row.text);
    if (!body) {
        out.error = job_row_error{row.line, "", body.error().field, body.error().message};
        return out;
    }
    if (type == job_type::users) {
        auto change = parse_bulk_user_row(*body);
        if (change)
            out.user = std::move(*change);
        else
            out.error = job_row_error{row.line, row_id_of(*body, type), change.error().field, change.error().message};
    } else {
        auto change = parse_bulk_company_row(*body);
        if (change)
            out.company = std::move(*change);
        else
            out.error = job_row_error{row.line, row_id_of(*body, type), change.error().field, change.error().message};
    }
    return out;
}

} // namespace

double chunk_rows(double cap, std::int64_t remaining)
{
    return std::min<double>(cap, static_cast<double>(std::max<std::int64_t>(remaining, 1)));
}

job_chunk read_chunk(spool_reader& reader, job_type type, std::int64_t take)
{
    job_chunk chunk;
    chunk.wanted = take;
    std::set<std::string> named_companies;
    try {
        while (chunk.rows < take) {
            auto row = reader.next();
            if (!row)
                break;
            ++chunk.rows;
            parsed_row parsed = parse_row(*row, type);
            if (parsed.error)
                chunk.errors.push_back(std::move(*parsed.error));
            else if (parsed.user) {
                if (parsed.user->company_id && named_companies.insert(*parsed.user->company_id).second)
                    chunk.user_companies.push_back(company_upsert{*parsed.user->company_id, "{}"});
                chunk.users.push_back(to_upsert(*parsed.user));
            }
            else
                chunk.companies.push_back(to_upsert(*parsed.company));
        }
    } catch (const store_error& e) {
        // The database holding the spool failed (lost, restarting): the job is fine, the read is not.
        chunk.read_problem = e.what();
        chunk.read_again = e.kind() == store_failure::unavailable || e.kind() == store_failure::busy;
    } catch (const std::exception& e) {
        // Spool read errors, and anything else: this runs on the parser thread, where nothing else would catch it.
        chunk.read_problem = e.what();
    }
    chunk.end_offset = reader.offset();
    chunk.end_line = reader.line();
    return chunk;
}

} // namespace profiled
