from tests.slack.fakes import get, slash_command


def test_help(server, fake):
    reply = server.send(slash_command("help", response_url=fake.response_url()))
    assert reply.status == 200, reply.body
    print(reply.body)
    assert get(server.health_url).status == 200
