from django.urls import URLPattern, URLResolver, path

from fangkong.screening.views import arrivals, assist, files

app_name = "screening"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", arrivals.board, name="board"),
    path("inbox/", arrivals.inbox, name="inbox"),
    path("arrivals/", arrivals.arrivals, name="arrivals"),
    path("arrivals/<int:arrival_id>/", arrivals.arrival, name="arrival"),
    path("arrivals/<int:arrival_id>/verify/", arrivals.verify, name="verify"),
    path("arrivals/<int:arrival_id>/place/", arrivals.place, name="place"),
    path("canvass/", arrivals.canvass, name="canvass"),
    path("export/", arrivals.export, name="export"),
    path("export.<str:fmt>", arrivals.export_file, name="export_file"),
    path("imports/", files.import_list, name="imports"),
    path("imports/<int:batch_id>/", files.import_detail, name="import"),
    path("imports/<int:batch_id>/report.xlsx", files.import_report, name="import_report"),
    path("mappings/", files.mappings, name="mappings"),
    path("assist/", assist.assist_list, name="assist_list"),
    path("assist/send/", assist.assist_send, name="assist_send"),
    path("assist/<int:request_id>/", assist.assist_detail, name="assist"),
    path("assist/<int:request_id>/acknowledge/", assist.assist_ack, name="assist_ack"),
    # Public: returnees report themselves without an account.
    path("report/", assist.self_report, name="self_report"),
]
