//! The `/v1` endpoints the simulator serves (LEVER_API.md's table), and what each needs: the
//! API-key permission and the OAuth scope.

use actix_web::http::Method;

/// The endpoints of LEVER_API.md's table, with ids taken from the path.
pub(crate) enum Endpoint {
    ListUsers,
    GetUser(String),
    ListStages,
    GetStage(String),
    ListTags,
    ListSources,
    ListPostings,
    GetPosting(String),
    ListOpportunities,
    GetOpportunity(String),
    PutStage(String),
    AddTags(String),
    RemoveTags(String),
    AddLinks(String),
    RemoveLinks(String),
    ListNotes(String),
    CreateNote(String),
    DeleteNote(String, String),
    ListFiles(String),
    UploadFile(String),
    DeleteFile(String, String),
    DownloadFile(String, String),
    ListFeedback(String),
    CreateFeedback(String),
    ListApplications(String),
    ListTemplates,
    CreateTemplate,
    ListWebhooks,
    CreateWebhook,
    DeleteWebhook(String),
}

impl Endpoint {
    pub fn route(method: &Method, path: &str) -> Option<Endpoint> {
        use Endpoint::*;
        let segs: Vec<String> = path
            .trim_start_matches("/v1")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let s = |s: &str| s.to_string();
        let ep = match (method.as_str(), segs.as_slice()) {
            ("GET", ["users"]) => ListUsers,
            ("GET", ["users", id]) => GetUser(s(id)),
            ("GET", ["stages"]) => ListStages,
            ("GET", ["stages", id]) => GetStage(s(id)),
            ("GET", ["tags"]) => ListTags,
            ("GET", ["sources"]) => ListSources,
            ("GET", ["postings"]) => ListPostings,
            ("GET", ["postings", id]) => GetPosting(s(id)),
            ("GET", ["opportunities"]) => ListOpportunities,
            ("GET", ["opportunities", id]) => GetOpportunity(s(id)),
            ("PUT", ["opportunities", id, "stage"]) => PutStage(s(id)),
            ("POST", ["opportunities", id, "addTags"]) => AddTags(s(id)),
            ("POST", ["opportunities", id, "removeTags"]) => RemoveTags(s(id)),
            ("POST", ["opportunities", id, "addLinks"]) => AddLinks(s(id)),
            ("POST", ["opportunities", id, "removeLinks"]) => RemoveLinks(s(id)),
            ("GET", ["opportunities", id, "notes"]) => ListNotes(s(id)),
            ("POST", ["opportunities", id, "notes"]) => CreateNote(s(id)),
            ("DELETE", ["opportunities", id, "notes", n]) => DeleteNote(s(id), s(n)),
            ("GET", ["opportunities", id, "files"]) => ListFiles(s(id)),
            ("POST", ["opportunities", id, "files"]) => UploadFile(s(id)),
            ("DELETE", ["opportunities", id, "files", f]) => DeleteFile(s(id), s(f)),
            ("GET", ["opportunities", id, "files", f, "download"]) => DownloadFile(s(id), s(f)),
            ("GET", ["opportunities", id, "feedback"]) => ListFeedback(s(id)),
            ("POST", ["opportunities", id, "feedback"]) => CreateFeedback(s(id)),
            ("GET", ["opportunities", id, "applications"]) => ListApplications(s(id)),
            ("GET", ["feedback_templates"]) => ListTemplates,
            ("POST", ["feedback_templates"]) => CreateTemplate,
            ("GET", ["webhooks"]) => ListWebhooks,
            ("POST", ["webhooks"]) => CreateWebhook,
            ("DELETE", ["webhooks", id]) => DeleteWebhook(s(id)),
            _ => return None,
        };
        Some(ep)
    }

    /// The opportunity the endpoint reads or writes, if any.
    pub fn opportunity_id(&self) -> Option<&str> {
        use Endpoint::*;
        match self {
            GetOpportunity(id)
            | PutStage(id)
            | AddTags(id)
            | RemoveTags(id)
            | AddLinks(id)
            | RemoveLinks(id)
            | ListNotes(id)
            | CreateNote(id)
            | DeleteNote(id, _)
            | ListFiles(id)
            | UploadFile(id)
            | DeleteFile(id, _)
            | DownloadFile(id, _)
            | ListFeedback(id)
            | CreateFeedback(id)
            | ListApplications(id) => Some(id),
            _ => None,
        }
    }

    /// The permission an endpoint needs, named as the client's table in `crate::lever::permissions`
    /// names it (Lever's own names for API-key permissions).
    pub fn permission(&self) -> &'static str {
        use Endpoint::*;
        match self {
            ListUsers => "list users",
            GetUser(_) => "read user",
            ListStages => "list stages",
            GetStage(_) => "read stage",
            ListTags => "list tags",
            ListSources => "list sources",
            ListPostings => "list postings",
            GetPosting(_) => "read posting",
            ListOpportunities => "list opportunities",
            GetOpportunity(_) => "read opportunity",
            PutStage(_) => "update opportunity stage",
            AddTags(_) => "add opportunity tag",
            RemoveTags(_) => "remove opportunity tag",
            AddLinks(_) => "add opportunity link",
            RemoveLinks(_) => "remove opportunity link",
            ListNotes(_) => "list opportunity notes",
            CreateNote(_) => "create opportunity note",
            DeleteNote(..) => "delete opportunity note",
            ListFiles(_) | DownloadFile(..) => "list opportunity files",
            UploadFile(_) => "upload opportunity file",
            DeleteFile(..) => "delete opportunity file",
            ListFeedback(_) => "list opportunity feedback",
            CreateFeedback(_) => "create opportunity feedback",
            ListApplications(_) => "list opportunity applications",
            ListTemplates => "list feedback templates",
            CreateTemplate => "create feedback template",
            ListWebhooks => "list webhooks",
            CreateWebhook => "create webhook",
            DeleteWebhook(_) => "delete webhook",
        }
    }

    /// The OAuth scope an endpoint needs (a write scope also covers its read scope).
    pub fn scope(&self) -> &'static str {
        use Endpoint::*;
        match self {
            ListUsers | GetUser(_) => "users:read:admin",
            ListStages | GetStage(_) => "stages:read:admin",
            ListTags => "tags:read:admin",
            ListSources => "sources:read:admin",
            ListPostings | GetPosting(_) => "postings:read:admin",
            ListOpportunities | GetOpportunity(_) | ListApplications(_) => {
                "opportunities:read:admin"
            }
            PutStage(_) | AddTags(_) | RemoveTags(_) | AddLinks(_) | RemoveLinks(_) => {
                "opportunities:write:admin"
            }
            ListNotes(_) => "notes:read:admin",
            CreateNote(_) | DeleteNote(..) => "notes:write:admin",
            ListFiles(_) | DownloadFile(..) => "files:read:admin",
            UploadFile(_) | DeleteFile(..) => "files:write:admin",
            ListFeedback(_) => "feedback:read:admin",
            CreateFeedback(_) => "feedback:write:admin",
            ListTemplates => "feedback_templates:read:admin",
            CreateTemplate => "feedback_templates:write:admin",
            ListWebhooks => "webhooks:read:admin",
            CreateWebhook | DeleteWebhook(_) => "webhooks:write:admin",
        }
    }
}
