"""What the staff pages need from elsewhere: the read APIs, the command topic and the sign-in issuer."""

from web.ports.apis import ApiError, ApprovalApi, CaseCommands, IntakeApi, SignIn, SignInRefused

__all__ = ["ApiError", "ApprovalApi", "CaseCommands", "IntakeApi", "SignIn", "SignInRefused"]
